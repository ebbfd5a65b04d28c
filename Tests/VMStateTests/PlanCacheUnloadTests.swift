import CFixtures
import CVMState
import Dispatch
import Foundation
import Synchronization
import Testing

@testable import VMState

#if canImport(Glibc)
    import Glibc
#endif

/// The plan cache at an unload of a shared object (Plan.swift, `Planner`): the plans it drops
/// are freed, those of a self-nesting description too, and plans made for a C caller's direct
/// call of a standard info come from the cache as it is after the unload and go into it whole,
/// also when a first save plans the same description at the same time. Serialized: each test
/// unloads an object, which drops every plan of the process (other suites' saves then plan
/// again, as they would after a plugin's dlclose).
@Suite(.serialized) struct PlanCacheUnloadTests {
    /// Loads and unloads glibc's libBrokenLocale (part of glibc, linked by nothing here; unlike
    /// GLib's libraries not marked NODELETE), so that the process's count of unloaded objects,
    /// which the cache watches, goes up.
    static func unloadAnObject() throws {
        let before = vmstate_unloaded_objects()
        let handle = try #require(dlopen("libBrokenLocale.so.1", RTLD_NOW | RTLD_LOCAL))
        #expect(dlclose(handle) == 0)
        try #require(vmstate_unloaded_objects() > before)
    }

    /// hx-deep: a struct `root` of hx-node, whose QTAILQ `kids` holds hx-nodes (its plan
    /// refers to itself).
    static func nodeDescription(_ device: HxDevice) throws -> UnsafePointer<VMStateDescription> {
        try #require(device.vmsd.pointee.fields?.pointee.vmsd)
    }

    @Test func selfNestingPlansDroppedAtAnUnloadAreFreed() throws {
        let device = HxDevice("hx-deep", sample: true)
        let saved = try device.save()
        weak var root: DescriptionPlan?
        weak var node: DescriptionPlan?
        try Planner.holding { () throws(VMStateError) in
            let plan = try Planner.plan(device.vmsd)
            root = plan
            node = plan.fields.first?.op.nestedPlans.first
        }
        let nodeName = try #require(node?.name)
        #expect(nodeName == "hx-node")
        #expect(node?.fields.last?.op.nestedPlans.first === node)

        try Self.unloadAnObject()
        // The next save finds the count changed, drops the cache and plans hx-deep again; the
        // last save or load to return (this one, or another suite's running at the same time)
        // frees the dropped plans.
        #expect(try device.save() == saved)
        for _ in 0..<10_000 where node != nil || root != nil {
            Planner.holding {}
            usleep(1000)
        }
        #expect(root == nil)
        #expect(node == nil)
    }

    @Test func aDirectInfoCallAfterAnUnloadPlansAgainAndCachesWhatItPlans() throws {
        let device = HxDevice("hx-deep")
        let nodeVMSD = try Self.nodeDescription(device)
        // hx-node's `kids`: a QTAILQ field with the standard qtailq info, as a C caller of
        // vmstate_info_qtailq.put would pass it.
        let kids = try #require(nodeVMSD.pointee.fields).advanced(by: 1)
        #expect(String(cString: kids.pointee.name) == "kids")
        let info = try #require(kids.pointee.info)

        let before = try Planner.holding { () throws(VMStateError) in try Planner.plan(nodeVMSD) }
        try Self.unloadAnObject()
        try Planner.holding { () throws(VMStateError) in
            let first = try Planner.standalone(kids, info: info).op.nestedPlans.first
            let second = try Planner.standalone(kids, info: info).op.nestedPlans.first
            #expect(first != nil)
            // Not the plan of before the unload (its table may be gone), and cached: the second
            // call finds what the first planned, as a save would.
            #expect(first !== before)
            #expect(second === first)
            #expect(try Planner.plan(nodeVMSD) === first)
        }
    }

    /// A direct info call planning hx-node while another thread's first save of hx-deep plans it
    /// too (verify21 1: the save's copy of hx-node was retired and emptied under its published
    /// hx-deep, whose later saves wrote nothing for `root`, or crashed). Each round unloads an
    /// object first, so that both plan anew, and starts the two together.
    @Test func aDirectInfoCallRacingAFirstSaveLeavesItsPlansWhole() throws {
        let device = HxDevice("hx-deep", sample: true)
        let saved = try device.save()
        // root 1; its kids 2 (whose kid 3, whose kid 4, whose kid 5) and 99: each node's be32
        // value, then per kid a marker 1 and the kid, and a 0 ending the list.
        #expect(
            saved == [
                0, 0, 0, 1, 1, 0, 0, 0, 2, 1, 0, 0, 0, 3, 1, 0, 0, 0, 4, 1, 0, 0, 0, 5, 0, 0, 0, 0, 1, 0, 0, 0, 99, 0,
                0,
            ])
        let nodeVMSD = try Self.nodeDescription(device)
        let kids = try #require(nodeVMSD.pointee.fields).advanced(by: 1)
        let info = try #require(kids.pointee.info)
        // (As addresses: the threads' closures are @Sendable; the tables are static and the
        // device outlives the round.)
        let (vmsd, opaque) = (UInt(bitPattern: device.vmsd), UInt(bitPattern: device.opaque))
        let (field, standard) = (UInt(bitPattern: kids), UInt(bitPattern: info))
        for _ in 0..<200 {
            try Self.unloadAnObject()
            // Two threads of their own (a pool might run both on one), started together.
            let ready = StartLine()
            let done = DispatchGroup()
            for i in 0..<2 {
                done.enter()
                Thread {
                    ready.arrive(of: 2)
                    if i == 0 {
                        _ = try? Planner.holding { () throws(VMStateError) in
                            try Planner.standalone(
                                UnsafePointer(bitPattern: field)!, info: UnsafePointer(bitPattern: standard)!)
                        }
                    } else {
                        _ = try? VMStateEngine.save(
                            UnsafePointer(bitPattern: vmsd)!, opaque: UnsafeMutableRawPointer(bitPattern: opaque)!)
                    }
                    done.leave()
                }.start()
            }
            done.wait()
            // Both have returned: plans retired meanwhile are freed (unless another suite's save
            // runs); hx-deep's cached plan must still save the whole tree.
            let again = try device.save()
            #expect(again == saved)
            if again != saved { break }
        }
    }
}

/// Threads that wait for each other before going on.
private final class StartLine: Sendable {
    private let arrived = Atomic<Int>(0)

    /// Returns once `count` threads have called this.
    func arrive(of count: Int) {
        arrived.add(1, ordering: .sequentiallyConsistent)
        while arrived.load(ordering: .sequentiallyConsistent) < count {}
    }
}
