/*
 * Device state of QEMU 7.2's pc machine (`qemu-system-x86_64 -M pc`), described with the
 * VMSTATE_* macros so that real QEMU 7.2 migration streams can be loaded into these structs.
 *
 * Each description below has QEMU 7.2's name, version_id, minimum_version_id, field order,
 * field versions, field tests and subsections (with `needed` functions), so it saves and loads
 * the same bytes as QEMU does. The structs are this project's own: they hold the members that
 * are migrated (with the C types that make the macros produce QEMU's field sizes), plus what a
 * `needed`, pre_save or post_load function reads. Members QEMU has but does not migrate are
 * left out, except where a nested struct's total size is part of the schema (a VMSTATE_STRUCT
 * field's `size` is sizeof the struct, and -dump-vmstate prints it): those structs are padded
 * to QEMU's x86-64 size, which a _Static_assert in the .c file checks.
 *
 * Pointers to timers (VMSTATE_TIMER_PTR) must point to a QEMUTimer before a save or load; the
 * pc_*_init() functions wire them to timers embedded in the same struct and set the reset
 * values QEMU's load path relies on (for example PCIDevice.version_id for the "int32 le" check).
 *
 * Names: every symbol starts with `pc_` and every type with `Pc`.
 */
#ifndef PC_DEVICES_H
#define PC_DEVICES_H

#include "migration/vmstate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ============================================================================================
 * "timer": the virtual clock (QEMU's TimersState, softmmu/cpu-timers.c)
 * ========================================================================================== */

typedef struct PcTimersState {
    int64_t cpu_ticks_offset;
    int64_t cpu_clock_offset;
    /* icount (only saved when icount is on) */
    int16_t icount_time_shift;
    int64_t last_delta;
    int64_t qemu_icount_bias;
    int64_t qemu_icount;
    int64_t vm_clock_warp_start;
    QEMUTimer *icount_rt_timer;
    QEMUTimer *icount_vm_timer;
    QEMUTimer *icount_warp_timer;
    /* not migrated: QEMU's icount_enabled(): 0 off, 1 fixed shift, 2 adaptive */
    int icount_mode;
} PcTimersState;

/* ============================================================================================
 * "globalstate": the run state (migration/global_state.c)
 * ========================================================================================== */

typedef struct PcGlobalState {
    uint32_t size;
    uint8_t runstate[100];
    /* not migrated: QEMU's migrate_get_current()->store_global_state */
    bool store_global_state;
    /* set by post_load: whether the section arrived, and the run state's index in QEMU 7.2's
     * RunState enum (debug 0, inmigrate 1, ..., paused 4, ..., running 9, ..., colo 15) */
    bool received;
    int state;
} PcGlobalState;

/** Sets the run state name (truncated to 99 bytes) and the size field. */
void pc_globalstate_set_runstate(PcGlobalState *s, const char *runstate);

/* ============================================================================================
 * "cpu_common": the generic part of a CPU (QEMU's CPUState, cpu.c)
 * ========================================================================================== */

typedef struct PcCPUCommonState {
    uint32_t halted;
    uint32_t interrupt_request;
    int32_t exception_index;
    bool crash_occurred;
    /* not migrated: QEMU's tcg_enabled() */
    bool tcg_enabled;
} PcCPUCommonState;

void pc_cpu_common_init(PcCPUCommonState *s);

/* ============================================================================================
 * "cpu": the x86-64 CPU (QEMU's X86CPU and CPUX86State, target/i386/machine.c)
 * ========================================================================================== */

#define PC_CPU_NB_REGS 16
#define PC_MCE_BANKS_DEF 10
#define PC_MSR_MTRRCAP_VCNT 8
#define PC_MAX_FIXED_COUNTERS 3
#define PC_MAX_GP_COUNTERS 18
#define PC_HV_CRASH_PARAMS 5
#define PC_HV_SINT_COUNT 16
#define PC_HV_STIMER_COUNT 4
#define PC_NB_OPMASK_REGS 8
#define PC_MAX_RTIT_ADDRS 8
#define PC_ARCH_LBR_NR_ENTRIES 32
#define PC_KVM_STATE_NESTED_FORMAT_VMX 0
#define PC_KVM_STATE_NESTED_FORMAT_SVM 1
#define PC_KVM_STATE_NESTED_VMCS_SIZE 0x1000

/* QEMU's ZMM_Q(n) on a little-endian host: field names come out as "_q_ZMMReg[n]". */
#define PC_ZMM_Q(n) _q_ZMMReg[n]

typedef union PcZMMReg { /* 64 bytes */
    uint8_t _b_ZMMReg[64];
    uint32_t _l_ZMMReg[16];
    uint64_t _q_ZMMReg[8];
} PcZMMReg;

typedef struct PcSegmentCache { /* 24 bytes */
    uint32_t selector;
    uint64_t base;
    uint32_t limit;
    uint32_t flags;
} PcSegmentCache;

typedef union PcFPReg { /* 16 bytes: an 80-bit float (or an MMX register in `low`) */
    struct {
        uint64_t low;  /* mantissa */
        uint16_t high; /* sign and exponent */
    } d __attribute__((aligned(16)));
    uint64_t mmx;
} PcFPReg;

typedef struct PcMTRRVar {
    uint64_t base;
    uint64_t mask;
} PcMTRRVar;

typedef struct PcBNDReg {
    uint64_t lb;
    uint64_t ub;
} PcBNDReg;

typedef struct PcBNDCSReg {
    uint64_t cfgu;
    uint64_t sts;
} PcBNDCSReg;

typedef struct PcLBREntry {
    uint64_t from;
    uint64_t to;
    uint64_t info;
} PcLBREntry;

/* Linux's struct kvm_nested_state with room for the VMX data (8320 bytes). */
typedef struct PcKvmNestedState {
    uint16_t flags;
    uint16_t format;
    uint32_t size;
    union {
        struct {
            __u64 vmxon_pa; /* kernel type, as in <linux/kvm.h> */
            __u64 vmcs12_pa;
            struct {
                uint16_t flags;
            } smm;
            uint16_t pad;
            uint32_t flags;
            uint64_t preemption_timer_deadline;
        } vmx;
        struct {
            __u64 vmcb_pa;
        } svm;
        uint8_t pad[120];
    } hdr;
    union {
        struct {
            uint8_t vmcs12[PC_KVM_STATE_NESTED_VMCS_SIZE];
            uint8_t shadow_vmcs12[PC_KVM_STATE_NESTED_VMCS_SIZE];
        } vmx[1];
        struct {
            uint8_t vmcb12[PC_KVM_STATE_NESTED_VMCS_SIZE];
        } svm[1];
    } data;
} PcKvmNestedState;

typedef struct PcCPUX86State {
    uint64_t regs[PC_CPU_NB_REGS];
    uint64_t eip;
    uint64_t eflags;
    uint32_t hflags;
    uint32_t hflags2;
    PcSegmentCache segs[6]; /* ES, CS, SS, DS, FS, GS */
    PcSegmentCache ldt;
    PcSegmentCache tr;
    PcSegmentCache gdt;
    PcSegmentCache idt;
    uint64_t cr[5];
    bool pdptrs_valid;
    uint64_t pdptrs[4];
    int32_t a20_mask;
    PcBNDReg bnd_regs[4];
    PcBNDCSReg bndcs_regs;
    uint64_t msr_bndcfgs;
    uint64_t efer;
    /* FPU: the working form, and the saved form pre_save/post_load convert to and from */
    unsigned int fpstt;
    uint16_t fpus;
    uint16_t fpuc;
    uint8_t fptags[8]; /* 1 = empty */
    PcFPReg fpregs[8];
    uint16_t fpus_vmstate;
    uint16_t fptag_vmstate;
    uint16_t fpregs_format_vmstate;
    uint16_t fpop;
    uint64_t fpip;
    uint64_t fpdp;
    uint32_t mxcsr;
    PcZMMReg xmm_regs[32] __attribute__((aligned(16)));
    uint64_t opmask_regs[PC_NB_OPMASK_REGS];
    uint8_t xtilecfg[64];
    uint8_t xtiledata[8192];
    uint32_t sysenter_cs;
    uint64_t sysenter_esp;
    uint64_t sysenter_eip;
    uint64_t star;
    uint64_t vm_hsave;
    uint64_t lstar;
    uint64_t cstar;
    uint64_t fmask;
    uint64_t kernelgsbase;
    uint64_t tsc_adjust;
    uint64_t tsc_deadline;
    uint64_t tsc_aux;
    uint64_t xcr0;
    uint64_t mcg_status;
    uint64_t msr_ia32_misc_enable;
    uint64_t msr_ia32_feature_control;
    uint64_t msr_ia32_sgxlepubkeyhash[4];
    uint64_t msr_fixed_ctr_ctrl;
    uint64_t msr_global_ctrl;
    uint64_t msr_global_status;
    uint64_t msr_global_ovf_ctrl;
    uint64_t msr_fixed_counters[PC_MAX_FIXED_COUNTERS];
    uint64_t msr_gp_counters[PC_MAX_GP_COUNTERS];
    uint64_t msr_gp_evtsel[PC_MAX_GP_COUNTERS];
    uint64_t pat;
    uint32_t smbase;
    uint64_t msr_smi_count;
    uint32_t pkru;
    uint32_t pkrs;
    uint32_t tsx_ctrl;
    uint64_t spec_ctrl;
    uint64_t amd_tsc_scale_msr;
    uint64_t virt_ssbd;
    uint64_t system_time_msr;
    uint64_t wall_clock_msr;
    uint64_t steal_time_msr;
    uint64_t async_pf_en_msr;
    uint64_t async_pf_int_msr;
    uint64_t pv_eoi_en_msr;
    uint64_t poll_control_msr;
    uint64_t msr_hv_hypercall;
    uint64_t msr_hv_guest_os_id;
    uint64_t msr_hv_tsc;
    uint64_t msr_hv_vapic;
    uint64_t msr_hv_crash_params[PC_HV_CRASH_PARAMS];
    uint64_t msr_hv_runtime;
    uint64_t msr_hv_synic_control;
    uint64_t msr_hv_synic_evt_page;
    uint64_t msr_hv_synic_msg_page;
    uint64_t msr_hv_synic_sint[PC_HV_SINT_COUNT];
    uint64_t msr_hv_stimer_config[PC_HV_STIMER_COUNT];
    uint64_t msr_hv_stimer_count[PC_HV_STIMER_COUNT];
    uint64_t msr_hv_reenlightenment_control;
    uint64_t msr_hv_tsc_emulation_control;
    uint64_t msr_hv_tsc_emulation_status;
    uint64_t msr_rtit_ctrl;
    uint64_t msr_rtit_status;
    uint64_t msr_rtit_output_base;
    uint64_t msr_rtit_output_mask;
    uint64_t msr_rtit_cr3_match;
    uint64_t msr_rtit_addrs[PC_MAX_RTIT_ADDRS];
    uint64_t msr_xfd;
    uint64_t msr_xfd_err;
    uint64_t msr_lbr_ctl;
    uint64_t msr_lbr_depth;
    PcLBREntry lbr_records[PC_ARCH_LBR_NR_ENTRIES];
    uint64_t dr[8];
    uint64_t vm_vmcb;
    uint64_t tsc_offset;
    uint64_t intercept;
    uint16_t intercept_cr_read;
    uint16_t intercept_cr_write;
    uint16_t intercept_dr_read;
    uint16_t intercept_dr_write;
    uint32_t intercept_exceptions;
    uint64_t nested_cr3;
    uint32_t nested_pg_mode;
    uint8_t v_tpr;
    uint32_t int_ctl;
    uint8_t nmi_injected;
    uint8_t nmi_pending;
    uint64_t mtrr_fixed[11];
    uint64_t mtrr_deftype;
    PcMTRRVar mtrr_var[PC_MSR_MTRRCAP_VCNT];
    uint32_t mp_state;
    int32_t exception_nr;
    int32_t interrupt_injected;
    uint8_t soft_interrupt;
    uint8_t exception_pending;
    uint8_t exception_injected;
    uint8_t has_error_code;
    uint8_t exception_has_payload;
    uint64_t exception_payload;
    uint8_t triple_fault_pending;
    uint32_t sipi_vector;
    int64_t tsc_khz;
    int64_t user_tsc_khz; /* not migrated: the "tsc-frequency" property */
    uint64_t tsc;
    PcKvmNestedState *nested_state; /* NULL without KVM nested virtualisation */
    uint64_t mcg_cap;
    uint64_t mcg_ctl;
    uint64_t mcg_ext_ctl;
    uint64_t mce_banks[PC_MCE_BANKS_DEF * 4];
    uint64_t xstate_bv;
    uint64_t xss;
    uint32_t umwait;
} PcCPUX86State;

typedef struct PcX86CPU {
    PcCPUX86State env;
    /* not migrated: properties and CPUID bits the `needed` functions read */
    bool migrate_smi_count;   /* "x-migrate-smi-count": true (off only for pc <= 2.11) */
    bool enable_lmce;         /* "lmce" */
    bool hyperv_runtime;      /* Hyper-V runtime feature */
    bool save_tsc_khz;        /* X86MachineClass.save_tsc_khz: true for pc-i440fx-7.2 */
    bool tcg_enabled;
    bool has_svm_tscscale;    /* CPUID 0x8000000A EDX bit 4 */
    bool has_tsx_ctrl_msr;    /* ARCH_CAPABILITIES bit 7 */
    bool has_sgx_lc;          /* CPUID 7.0 ECX bit 30 */
    bool has_xfd;             /* CPUID 0xD.1 EAX bit 4 */
    bool has_amx_tile;        /* CPUID 7.0 EDX bit 24 */
    bool has_arch_lbr;        /* CPUID 7.0 EDX bit 19 */
} PcX86CPU;

/** A reset TCG CPU of the pc machine: exception_nr -1, poll_control_msr 1, misc_enable 1,
 *  a20 mask all ones, empty FPU tags, real-mode segments, no nested state. */
void pc_x86_cpu_init(PcX86CPU *cpu);

/* ============================================================================================
 * "apic": the local APIC (hw/intc/apic_common.c)
 * ========================================================================================== */

#define PC_APIC_LVT_NB 6

typedef struct PcAPICState {
    uint32_t apicbase;
    uint8_t id;
    uint8_t arb_id;
    uint8_t tpr;
    uint32_t spurious_vec;
    uint8_t log_dest;
    uint8_t dest_mode;
    uint32_t isr[8];
    uint32_t tmr[8];
    uint32_t irr[8];
    uint32_t lvt[PC_APIC_LVT_NB];
    uint32_t esr;
    uint32_t icr[2];
    uint32_t divide_conf;
    int count_shift;
    uint32_t initial_count;
    int64_t initial_count_load_time;
    int64_t next_time;
    int64_t timer_expiry;
    int sipi_vector;
    int wait_for_sipi;
} PcAPICState;

/* ============================================================================================
 * "kvm-tpr-opt": the TPR-access patching helper (hw/i386/kvmvapic.c)
 * ========================================================================================== */

typedef struct __attribute__((packed)) PcVAPICHandlers {
    uint32_t set_tpr;
    uint32_t set_tpr_eax;
    uint32_t get_tpr[8];
    uint32_t get_tpr_stack;
} PcVAPICHandlers; /* 44 bytes, packed as in QEMU */

typedef struct __attribute__((packed)) PcGuestROMState {
    char signature[8]; /* not migrated (VMSTATE_UNUSED(8) stands in its place) */
    uint32_t vaddr;
    uint32_t fixup_start;
    uint32_t fixup_end;
    uint32_t vapic_vaddr;
    uint32_t vapic_size;
    uint32_t vcpu_shift;
    uint32_t real_tpr_addr;
    PcVAPICHandlers up;
    PcVAPICHandlers mp;
} PcGuestROMState; /* 124 bytes, packed as in QEMU */

typedef struct PcVAPICROMState {
    uint32_t state;
    uint32_t rom_state_paddr;
    uint32_t rom_state_vaddr;
    uint32_t vapic_paddr;
    uint32_t real_tpr_addr;
    PcGuestROMState rom_state;
} PcVAPICROMState;

/* ============================================================================================
 * "fw_cfg": the firmware configuration device (hw/nvram/fw_cfg.c)
 * ========================================================================================== */

typedef struct PcFWCfgState {
    uint16_t cur_entry;
    uint32_t cur_offset;
    /* subsection fw_cfg/dma */
    bool dma_enabled; /* not migrated: decides whether fw_cfg/dma is sent */
    uint64_t dma_addr;
    /* subsection fw_cfg/acpi_mr */
    bool acpi_mr_restore; /* not migrated: decides whether fw_cfg/acpi_mr may be sent */
    uint64_t table_mr_size;
    uint64_t linker_mr_size;
    uint64_t rsdp_mr_size;
} PcFWCfgState;

/* ============================================================================================
 * PCI: "PCIHost", "PCIBUS", the nested "PCIDevice" (hw/pci/pci_host.c, hw/pci/pci.c)
 * ========================================================================================== */

#define PC_PCI_CONFIG_SPACE_SIZE 0x100
#define PC_PCIE_CONFIG_SPACE_SIZE 0x1000
#define PC_PCI_NUM_PINS 4
#define PC_PCI_CAP_EXPRESS 0x4 /* QEMU_PCI_CAP_EXPRESS in cap_present */

typedef struct PcPCIHostState {
    uint32_t config_reg;
    bool mig_enabled; /* not migrated: PCIHost is only sent when this is set */
} PcPCIHostState;

typedef struct PcPCIBus {
    int32_t nirq;      /* saved with "int32 equal": the stream must agree */
    int32_t *irq_count; /* nirq counters (VMSTATE_VARRAY_INT32 through this pointer) */
    int32_t irq_count_storage[PC_PCI_NUM_PINS];
} PcPCIBus;

/** nirq = 4, irq_count -> the embedded storage (the i440FX bus of the pc machine). */
void pc_pci_bus_init(PcPCIBus *bus);

/*
 * QEMU's PCIDevice is 2608 bytes on x86-64 (the size -dump-vmstate prints for every
 * VMSTATE_PCI_DEVICE field). Ours keeps what the "PCIDevice" description and its two custom
 * VMStateInfos ("pci config", "pci irq state") use, padded to that size.
 */
typedef union PcPCIDevice {
    struct {
        int32_t version_id;     /* "int32 le": the stream's value must be <= this (2) */
        uint32_t cap_present;   /* PC_PCI_CAP_EXPRESS selects the 4096-byte config space */
        uint8_t *config;        /* config space, 256 or 4096 bytes */
        uint8_t *cmask;         /* bytes checked on load (may be NULL: nothing checked) */
        uint8_t *wmask;         /* writable bits, never checked (may be NULL) */
        uint8_t *w1cmask;       /* write-1-to-clear bits, never checked (may be NULL) */
        uint8_t irq_state;      /* bit i: INTx pin i asserted */
        uint8_t config_storage[PC_PCI_CONFIG_SPACE_SIZE];
    };
    uint8_t pc_qemu_size_[2608];
} PcPCIDevice;

/** version_id = 2, config -> the embedded 256-byte storage, no masks. */
void pc_pci_device_init(PcPCIDevice *d);

extern const VMStateDescription pc_vmstate_pci_device; /* "PCIDevice" */
extern const VMStateInfo pc_info_pci_config;           /* "pci config" */
extern const VMStateInfo pc_info_pci_irq_state;        /* "pci irq state" */

/* "I440FX": the host bridge's PCI function (hw/pci-host/i440fx.c) */
typedef struct PcI440FXState {
    PcPCIDevice parent_obj;
} PcI440FXState;

/* "PIIX3": the PCI-to-ISA bridge (hw/isa/piix3.c) */
#define PC_PIIX_NUM_PIRQS 4

typedef struct PcPIIX3State {
    PcPCIDevice dev;
    int32_t pci_irq_levels_vmstate[PC_PIIX_NUM_PIRQS];
    uint8_t rcr;
    /* not migrated: the bus whose irq_count pre_save copies into pci_irq_levels_vmstate */
    PcPCIBus *bus;
} PcPIIX3State;

/* ============================================================================================
 * "dma": the two i8257 DMA controllers (hw/dma/i8257.c)
 * ========================================================================================== */

typedef struct PcI8257Regs {
    int now[2];
    uint16_t base[2];
    uint8_t mode;
    uint8_t page;
    uint8_t pageh;
    uint8_t dack;
    uint8_t eop;
    void (*transfer_handler)(void); /* not migrated; keeps QEMU's 40-byte size */
    void *opaque;                   /* not migrated */
} PcI8257Regs;

typedef struct PcI8257State {
    int32_t dshift;
    uint8_t command;
    uint8_t mask;
    uint8_t flip_flop;
    PcI8257Regs regs[4];
} PcI8257State;

/* ============================================================================================
 * "i8259": the two interrupt controllers (hw/intc/i8259_common.c)
 * ========================================================================================== */

typedef struct PcPICState {
    uint8_t last_irr;
    uint8_t irr;
    uint8_t imr;
    uint8_t isr;
    uint8_t priority_add;
    uint8_t irq_base;
    uint8_t read_reg_select;
    uint8_t poll;
    uint8_t special_mask;
    uint8_t init_state;
    uint8_t auto_eoi;
    uint8_t rotate_on_auto_eoi;
    uint8_t special_fully_nested_mode;
    uint8_t init4;
    uint8_t single_mode;
    uint8_t elcr;
} PcPICState;

/* ============================================================================================
 * "ioapic" (hw/intc/ioapic_common.c)
 * ========================================================================================== */

#define PC_IOAPIC_NUM_PINS 24

typedef struct PcIOAPICState {
    uint8_t id;
    uint8_t ioregsel;
    uint32_t irr;
    uint64_t ioredtbl[PC_IOAPIC_NUM_PINS];
} PcIOAPICState;

/* ============================================================================================
 * "hpet" (hw/timer/hpet.c)
 * ========================================================================================== */

#define PC_HPET_MIN_TIMERS 3
#define PC_HPET_MAX_TIMERS 32

struct PcHPETState;

typedef struct PcHPETTimer { /* 64 bytes, as QEMU's HPETTimer */
    uint8_t tn;
    QEMUTimer *qemu_timer;
    struct PcHPETState *state;
    uint64_t config;
    uint64_t cmp;
    uint64_t fsb;
    uint64_t period;
    uint8_t wrap_flag;
} PcHPETTimer;

typedef struct PcHPETState {
    uint64_t hpet_offset;
    bool hpet_offset_saved; /* not migrated: property "hpet-offset-saved" */
    uint8_t rtc_irq_level;
    uint8_t num_timers;
    PcHPETTimer timer[PC_HPET_MAX_TIMERS];
    uint64_t capability; /* not migrated: post_load puts num_timers - 1 in bits 8..12 */
    uint64_t config;
    uint64_t isr;
    uint64_t hpet_counter;
    QEMUTimer timer_storage[PC_HPET_MAX_TIMERS];
} PcHPETState;

/** num_timers = 3, each timer's tn, state and qemu_timer wired, offset saved as in QEMU 7.2. */
void pc_hpet_init(PcHPETState *s);

/* ============================================================================================
 * "mc146818rtc": the real-time clock and CMOS memory (hw/rtc/mc146818rtc.c)
 * ========================================================================================== */

typedef struct PcRTCState {
    uint8_t cmos_data[128];
    uint8_t cmos_index;
    uint64_t base_rtc;
    uint64_t last_update;
    int64_t offset;
    QEMUTimer *periodic_timer;
    int64_t next_periodic_time;
    QEMUTimer *update_timer;
    uint64_t next_alarm_time;
    uint16_t irq_reinject_on_ack_count;
    uint32_t irq_coalesced;
    uint32_t period;
    QEMUTimer periodic_timer_storage;
    QEMUTimer update_timer_storage;
} PcRTCState;

/** Wires the two timer pointers to the embedded timers (not pending). */
void pc_rtc_init(PcRTCState *s);

/* ============================================================================================
 * "i8254": the interval timer (hw/timer/i8254_common.c)
 * ========================================================================================== */

typedef struct PcPITChannelState { /* 56 bytes, as QEMU's PITChannelState */
    int count;
    uint16_t latched_count;
    uint8_t count_latched;
    uint8_t status_latched;
    uint8_t status;
    uint8_t read_state;
    uint8_t write_state;
    uint8_t write_latch;
    uint8_t rw_mode;
    uint8_t mode;
    uint8_t bcd;
    uint8_t gate;
    int64_t count_load_time;
    int64_t next_transition_time;
    QEMUTimer *irq_timer; /* not migrated */
    void *irq;            /* not migrated */
    uint32_t irq_disabled;
} PcPITChannelState;

typedef struct PcPITState {
    PcPITChannelState channels[3];
} PcPITState;

/* ============================================================================================
 * "pcspk": the PC speaker (hw/audio/pcspk.c)
 * ========================================================================================== */

typedef struct PcSpeakerState {
    uint8_t data_on;
    uint8_t dummy_refresh_clock;
    bool migrate; /* not migrated: property "migrate" (true), the section's `needed` */
} PcSpeakerState;

/* ============================================================================================
 * "fdc": the ISA floppy controller (hw/block/fdc.c, hw/block/fdc-isa.c)
 * ========================================================================================== */

#define PC_MAX_FD 2
#define PC_FD_SECTOR_LEN 512

typedef struct PcFDrive { /* 48 bytes, as QEMU's FDrive */
    void *fdctrl;          /* not migrated */
    void *blk;             /* not migrated: non-NULL when a medium backend is attached */
    void *conf;            /* not migrated */
    int drive;             /* not migrated */
    uint8_t perpendicular;
    uint8_t head;
    uint8_t track;
    uint8_t sect;
    int disk;              /* not migrated */
    int flags;             /* not migrated */
    uint8_t last_sect;     /* not migrated */
    uint8_t max_track;     /* not migrated */
    uint16_t bps;          /* not migrated */
    uint8_t ro;            /* not migrated */
    uint8_t media_changed;
    uint8_t media_rate;
    bool media_validated;  /* not migrated */
} PcFDrive;

typedef union PcFDCtrl { /* 672 bytes, as QEMU's FDCtrl */
    struct {
        QEMUTimer *result_timer;
        uint8_t *fifo; /* PC_FD_SECTOR_LEN bytes */
        int32_t fifo_size;
        uint8_t phase;
        uint8_t sra;
        uint8_t srb;
        uint8_t dor;
        uint8_t dor_vmstate; /* only used while saving and loading */
        uint8_t tdr;
        uint8_t dsr;
        uint8_t msr;
        uint8_t cur_drv;
        uint8_t status0;
        uint8_t status1;
        uint8_t status2;
        uint32_t data_pos;
        uint32_t data_len;
        uint8_t data_state;
        uint8_t data_dir;
        uint8_t eot;
        uint8_t precomp_trk;
        uint8_t config;
        uint8_t lock;
        uint8_t pwrd;
        uint8_t num_floppies; /* "uint8 equal": the stream must agree */
        uint8_t timer0;
        uint8_t timer1;
        int reset_sensei;
        PcFDrive drives[PC_MAX_FD];
    };
    uint8_t pc_qemu_size_[672];
} PcFDCtrl;

typedef struct PcFDCtrlISABus {
    PcFDCtrl state;
    uint8_t fifo_storage[PC_FD_SECTOR_LEN];
    QEMUTimer result_timer_storage;
} PcFDCtrlISABus;

/** fifo -> embedded 512 bytes, result_timer -> embedded timer, num_floppies = 2 (pc). */
void pc_fdc_init(PcFDCtrlISABus *s);

/* ============================================================================================
 * "ps2kbd", "ps2mouse" (hw/input/ps2.c) and "pckbd", the i8042 holding them (hw/input/pckbd.c)
 * ========================================================================================== */

#define PC_PS2_BUFFER_SIZE 256
#define PC_PS2_QUEUE_SIZE 16
#define PC_PS2_QUEUE_HEADROOM 8

typedef struct PcPS2Queue {
    uint8_t data[PC_PS2_BUFFER_SIZE];
    int rptr, wptr, cwptr, count;
} PcPS2Queue;

typedef union PcPS2State { /* 1104 bytes, as QEMU's PS2State */
    struct {
        PcPS2Queue queue;
        int32_t write_cmd;
        void *irq; /* not migrated (gives the struct QEMU's 8-byte alignment) */
    };
    uint8_t pc_qemu_size_[1104];
} PcPS2State;

typedef struct PcPS2KbdState {
    PcPS2State parent_obj;
    int scan_enabled;
    int translate;
    int scancode_set;
    int ledstate;
    bool need_high_bit;
    unsigned int modifiers; /* not migrated */
} PcPS2KbdState;

typedef struct PcPS2MouseState {
    PcPS2State parent_obj;
    uint8_t mouse_status;
    uint8_t mouse_resolution;
    uint8_t mouse_sample_rate;
    uint8_t mouse_wrap;
    uint8_t mouse_type;
    uint8_t mouse_detect_state;
    int mouse_dx;
    int mouse_dy;
    int mouse_dz;
    int mouse_dw; /* not migrated */
    uint8_t mouse_buttons;
} PcPS2MouseState;

/** write_cmd = -1, empty queue (cwptr = -1), scan_enabled = 1, scancode_set = 2. */
void pc_ps2_kbd_init(PcPS2KbdState *s);
/** write_cmd = -1, empty queue (cwptr = -1). */
void pc_ps2_mouse_init(PcPS2MouseState *s);

typedef struct PcKBDState { /* 2328 bytes, as QEMU's KBDState */
    uint8_t write_cmd;
    uint8_t status;
    uint8_t mode;
    uint8_t outport;
    uint32_t migration_flags;
    uint32_t obsrc;
    bool outport_present;
    bool extended_state; /* not migrated: property "extended-state" (true) */
    bool extended_state_loaded;
    uint8_t pending;
    uint8_t obdata;
    uint8_t cbdata;
    uint8_t pending_tmp;
    PcPS2KbdState ps2kbd;    /* saved as its own "ps2kbd" section */
    PcPS2MouseState ps2mouse; /* saved as its own "ps2mouse" section */
    QEMUTimer *throttle_timer;
    void *irqs[2];
    void *a20_out;
    uint64_t mask;
} PcKBDState;

typedef struct PcISAKBDState {
    PcKBDState kbd;
} PcISAKBDState;

/** extended_state = true, outport = its reset value, both PS/2 devices initialised. */
void pc_i8042_init(PcISAKBDState *s);

/* ============================================================================================
 * "vmmouse" (hw/i386/vmmouse.c)
 * ========================================================================================== */

#define PC_VMMOUSE_QUEUE_SIZE 1024

typedef struct PcVMMouseState {
    uint32_t queue[PC_VMMOUSE_QUEUE_SIZE];
    int32_t queue_size; /* "int32 equal": the stream must agree (1024) */
    uint16_t nb_queue;
    uint16_t status;
    uint8_t absolute;
} PcVMMouseState;

void pc_vmmouse_init(PcVMMouseState *s);

/* ============================================================================================
 * "port92" (hw/i386/port92.c), "i2c_bus" (hw/i2c/core.c), "acpi_build" (hw/i386/acpi-build.c)
 * ========================================================================================== */

typedef struct PcPort92State {
    uint8_t outport;
} PcPort92State;

typedef struct PcI2CBus {
    uint8_t saved_address;
    /* not migrated: pre_save derives saved_address from these */
    int current_address; /* address of the first selected device, -1 when none */
    bool broadcast;
} PcI2CBus;

void pc_i2c_bus_init(PcI2CBus *bus);

typedef struct PcAcpiBuildState {
    uint8_t patched;
} PcAcpiBuildState;

/* ============================================================================================
 * "ide": the PIIX3 IDE function (hw/ide/pci.c, hw/ide/core.c)
 * ========================================================================================== */

#define PC_IDE_DMA_BUF_SECTORS 256
#define PC_IDE_IO_BUFFER_LEN (PC_IDE_DMA_BUF_SECTORS * 512 + 4)

struct PcIDEBus;

typedef struct PcIDEState {
    struct PcIDEBus *bus;
    int32_t mult_sectors;
    int32_t identify_set;
    uint8_t identify_data[512];
    uint8_t feature;
    uint8_t error;
    uint32_t nsector;
    uint8_t sector;
    uint8_t lcyl;
    uint8_t hcyl;
    uint8_t hob_feature;
    uint8_t hob_sector;
    uint8_t hob_nsector;
    uint8_t hob_lcyl;
    uint8_t hob_hcyl;
    uint8_t select;
    uint8_t status;
    uint8_t lba48;
    uint8_t sense_key;
    uint8_t asc;
    uint8_t cdrom_changed;
    struct {
        bool eject_request;
        bool new_media;
    } events;
    bool tray_open;
    bool tray_locked;
    /* subsection ide_drive/pio_state */
    int32_t req_nb_sectors;
    uint8_t *io_buffer;           /* io_buffer_total_len bytes */
    int32_t io_buffer_total_len;  /* not migrated: PC_IDE_IO_BUFFER_LEN */
    int32_t cur_io_buffer_offset;
    int32_t cur_io_buffer_len;
    uint8_t end_transfer_fn_idx;  /* index into QEMU's table of 6 end-of-transfer functions */
    int32_t elementary_transfer_size;
    int32_t packet_transfer_size;
} PcIDEState;

typedef struct PcIDEBus {
    PcIDEState ifs[2];
    uint8_t unit;
    uint8_t cmd;
    int error_status;
    uint8_t retry_unit;
    int64_t retry_sector_num;
    uint32_t retry_nsector;
} PcIDEBus;

typedef struct PcBMDMAState {
    uint8_t cmd;
    uint8_t status;
    uint32_t addr;
    PcIDEBus *bus; /* not migrated */
    uint32_t cur_addr;
    uint32_t cur_prd_last;
    uint32_t cur_prd_addr;
    uint32_t cur_prd_len;
    uint8_t migration_compat_status;
    uint8_t migration_retry_unit;
    int64_t migration_retry_sector_num;
    uint32_t migration_retry_nsector;
} PcBMDMAState;

typedef struct PcPCIIDEState {
    PcPCIDevice parent_obj;
    PcIDEBus bus[2];
    PcBMDMAState bmdma[2];
    uint8_t io_buffer_storage[2][2][PC_IDE_IO_BUFFER_LEN];
} PcPCIIDEState;

/** PCI device, buses, drives (io_buffer -> embedded storage) and BMDMA wired as QEMU does. */
void pc_pci_ide_init(PcPCIIDEState *s);

/* "isa-ide": one ISA IDE channel (hw/ide/isa.c; QEMU 7.2's isapc saves both channels as
 * instance 0, QEMU 10.0's as instances 0 and 1). */
typedef struct PcISAIDEState {
    PcIDEBus bus;
    uint8_t io_buffer_storage[2][PC_IDE_IO_BUFFER_LEN];
} PcISAIDEState;

/** The bus and its drives (io_buffer -> embedded storage) wired as QEMU does. */
void pc_isa_ide_init(PcISAIDEState *s);

/* ============================================================================================
 * "piix4_pm": the PIIX4 power management function (hw/acpi/piix4.c and the ACPI helpers)
 * ========================================================================================== */

/* QEMU's MemoryRegion: 272 bytes, 16-byte aligned; never migrated, kept for the sizes of the
 * structs that embed one (APMState, PMSMBus, MemHotplugState, CPUHotplugState). */
typedef struct PcMemoryRegion {
    _Alignas(16) uint8_t opaque[272];
} PcMemoryRegion;

#define PC_PM_SMBUS_MAX_MSG_SIZE 32
#define PC_ACPI_PCIHP_MAX_HOTPLUG_BUS 256
#define PC_ACPI_PCIHP_BSEL_DEFAULT 0x0
#define PC_PIIX4_GPE_LEN 4

typedef struct PcAPMState { /* 304 bytes, as QEMU's APMState */
    uint8_t apmc;
    uint8_t apms;
    void (*callback)(void); /* not migrated */
    void *arg;              /* not migrated */
    PcMemoryRegion io;
} PcAPMState;

typedef struct PcPMSMBus { /* 384 bytes, as QEMU's PMSMBus */
    void *smbus;
    PcMemoryRegion io;
    uint8_t smb_stat;
    uint8_t smb_ctl;
    uint8_t smb_cmd;
    uint8_t smb_addr;
    uint8_t smb_data0;
    uint8_t smb_data1;
    uint8_t smb_data[PC_PM_SMBUS_MAX_MSG_SIZE];
    uint8_t smb_blkdata;
    uint8_t smb_auxctl;
    uint32_t smb_index;
    void (*reset)(void);
    bool i2c_enable;
    void (*set_irq)(void);
    void *opaque;
    bool op_done;
    bool in_i2c_block_read;
    bool start_transaction_on_status_read;
} PcPMSMBus;

typedef struct PcACPIGPE { /* 24 bytes, as QEMU's ACPIGPE */
    uint8_t len;
    uint8_t *sts; /* len / 2 bytes; the first two are saved as one host-order uint16 */
    uint8_t *en;
} PcACPIGPE;

typedef struct PcAcpiPciHpPciStatus { /* 12 bytes */
    uint32_t up;
    uint32_t down;
    uint32_t hotplug_enable; /* not migrated */
} PcAcpiPciHpPciStatus;

typedef struct PcMemStatus { /* 24 bytes, as QEMU's MemStatus */
    void *dimm;
    bool is_enabled;
    bool is_inserting;
    bool is_removing;
    uint32_t ost_event;
    uint32_t ost_status;
} PcMemStatus;

typedef struct PcMemHotplugState { /* 304 bytes */
    bool is_enabled; /* not migrated: whether piix4_pm/memhp is sent */
    PcMemoryRegion io;
    uint32_t selector;
    uint32_t dev_count;
    PcMemStatus *devs;
} PcMemHotplugState;

typedef struct PcAcpiCpuStatus { /* 32 bytes, as QEMU's AcpiCpuStatus */
    void *cpu;
    uint64_t arch_id;
    bool is_inserting;
    bool is_removing;
    bool fw_remove;
    uint32_t ost_event;
    uint32_t ost_status;
} PcAcpiCpuStatus;

typedef struct PcCPUHotplugState { /* 304 bytes */
    PcMemoryRegion ctrl_reg;
    uint32_t selector;
    uint8_t command;
    uint32_t dev_count;
    PcAcpiCpuStatus *devs;
} PcCPUHotplugState;

typedef struct PcPIIX4PMState {
    PcPCIDevice parent_obj;
    struct {
        struct {
            QEMUTimer *timer;
            int64_t overflow_time;
        } tmr;
        PcACPIGPE gpe;
        struct {
            struct {
                uint16_t sts;
                uint16_t en;
            } evt;
            struct {
                uint16_t cnt;
            } cnt;
        } pm1;
    } ar;
    PcAPMState apm;
    PcPMSMBus smb;
    struct {
        PcAcpiPciHpPciStatus acpi_pcihp_pci_status[PC_ACPI_PCIHP_MAX_HOTPLUG_BUS];
        uint32_t hotplug_select;
        uint32_t acpi_index;
    } acpi_pci_hotplug;
    /* not migrated: machine and device properties the tests read */
    bool smbus_migration;          /* !MachineClass.smbus_no_migration_support (true) */
    bool use_acpi_hotplug_bridge;  /* true */
    bool not_migrate_acpi_index;   /* false from pc-i440fx-6.2 on */
    bool cpu_hotplug_legacy;       /* true */
    PcCPUHotplugState cpuhp_state;
    PcMemHotplugState acpi_memory_hotplug;
    QEMUTimer tmr_timer_storage;
    uint8_t gpe_sts_storage[PC_PIIX4_GPE_LEN / 2];
    uint8_t gpe_en_storage[PC_PIIX4_GPE_LEN / 2];
    PcAcpiCpuStatus cpu_status_storage[1];
} PcPIIX4PMState;

/** As the pc machine sets it up: PCI device, PM timer, 4-byte GPE block, properties above,
 *  CPU hotplug state for one CPU, no hotpluggable memory slots. */
void pc_piix4_pm_init(PcPIIX4PMState *s);

/* ============================================================================================
 * The descriptions
 * ========================================================================================== */

extern const VMStateDescription pc_vmstate_timers;       /* "timer"        PcTimersState */
extern const VMStateDescription pc_vmstate_globalstate;  /* "globalstate"  PcGlobalState */
extern const VMStateDescription pc_vmstate_cpu_common;   /* "cpu_common"   PcCPUCommonState */
extern const VMStateDescription pc_vmstate_x86_cpu;      /* "cpu"          PcX86CPU */
extern const VMStateDescription pc_vmstate_apic;         /* "apic"         PcAPICState */
extern const VMStateDescription pc_vmstate_kvmvapic;     /* "kvm-tpr-opt"  PcVAPICROMState */
extern const VMStateDescription pc_vmstate_fw_cfg;       /* "fw_cfg"       PcFWCfgState */
extern const VMStateDescription pc_vmstate_pcihost;      /* "PCIHost"      PcPCIHostState */
extern const VMStateDescription pc_vmstate_pcibus;       /* "PCIBUS"       PcPCIBus */
extern const VMStateDescription pc_vmstate_i440fx;       /* "I440FX"       PcI440FXState */
extern const VMStateDescription pc_vmstate_i8257;        /* "dma"          PcI8257State */
extern const VMStateDescription pc_vmstate_piix3;        /* "PIIX3"        PcPIIX3State */
extern const VMStateDescription pc_vmstate_i8259;        /* "i8259"        PcPICState */
extern const VMStateDescription pc_vmstate_ioapic;       /* "ioapic"       PcIOAPICState */
extern const VMStateDescription pc_vmstate_hpet;         /* "hpet"         PcHPETState */
extern const VMStateDescription pc_vmstate_rtc;          /* "mc146818rtc"  PcRTCState */
extern const VMStateDescription pc_vmstate_i8254;        /* "i8254"        PcPITState */
extern const VMStateDescription pc_vmstate_pcspk;        /* "pcspk"        PcSpeakerState */
extern const VMStateDescription pc_vmstate_isa_fdc;      /* "fdc"          PcFDCtrlISABus */
extern const VMStateDescription pc_vmstate_ps2kbd;       /* "ps2kbd"       PcPS2KbdState */
extern const VMStateDescription pc_vmstate_ps2mouse;     /* "ps2mouse"     PcPS2MouseState */
extern const VMStateDescription pc_vmstate_i8042;        /* "pckbd"        PcISAKBDState */
extern const VMStateDescription pc_vmstate_vmmouse;      /* "vmmouse"      PcVMMouseState */
extern const VMStateDescription pc_vmstate_port92;       /* "port92"       PcPort92State */
extern const VMStateDescription pc_vmstate_ide_pci;      /* "ide"          PcPCIIDEState */
extern const VMStateDescription pc_vmstate_ide_isa;      /* "isa-ide"      PcISAIDEState */
extern const VMStateDescription pc_vmstate_i2c_bus;      /* "i2c_bus"      PcI2CBus */
extern const VMStateDescription pc_vmstate_piix4_pm;     /* "piix4_pm"     PcPIIX4PMState */
extern const VMStateDescription pc_vmstate_acpi_build;   /* "acpi_build"   PcAcpiBuildState */

/** Every top-level description above, in the order the pc machine's stream has them, NULL-ended. */
extern const VMStateDescription *const pc_device_vmsds[];

/** pc_device_vmsds (Swift does not import arrays of unknown size). */
const VMStateDescription *const *pc_device_vmsd_list(void);
/** The top-level description named `name` ("mc146818rtc", "i8254", ...), or NULL. */
const VMStateDescription *pc_device_vmsd_named(const char *name);

/**
 * The state struct of the top-level description `vmsd` (one of pc_device_vmsds), zeroed and set
 * to the values a pc-i440fx-7.2 machine starts with (timers wired, PCI version_id 2, ...), so a
 * stream can be loaded into it. Free it with g_free. NULL when `vmsd` is not in the list.
 */
void *pc_device_state_new(const VMStateDescription *vmsd);
/** sizeof the state struct of `vmsd`, 0 when `vmsd` is not in the list. */
size_t pc_device_state_size(const VMStateDescription *vmsd);

/** Deliberately broken tables for the lint tests (lint_broken.c), NULL-ended. */
/** The deliberately broken tables as an exported NULL-terminated array (for `vmstate lint`). */
extern const VMStateDescription *const pc_lint_broken_vmsds[];
const VMStateDescription *const *pc_lint_broken_vmsd_list(void);
/* QEMU's idioms lint must not report: sub-arrays, test alternatives, UNUSED twice, a guarded
 * pair, an allocated VARRAY (lint_broken.c). */
const VMStateDescription *pc_lint_idioms_vmsd(void);

#ifdef __cplusplus
}
#endif

#endif
