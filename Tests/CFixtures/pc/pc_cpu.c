/*
 * "cpu": the x86-64 CPU state of QEMU 7.2 (target/i386/machine.c, built for x86_64 with KVM
 * support, as Debian's qemu-system-x86 is). Saved after "cpu_common" for each CPU.
 */
#include <errno.h>
#include <string.h>

#include "pc_internal.h"

_Static_assert(sizeof(PcSegmentCache) == 24, "SegmentCache is 24 bytes in QEMU 7.2");
_Static_assert(sizeof(PcFPReg) == 16, "FPReg is 16 bytes in QEMU 7.2");
_Static_assert(sizeof(PcZMMReg) == 64, "ZMMReg is 64 bytes in QEMU 7.2");
_Static_assert(offsetof(PcKvmNestedState, data) == 128, "kvm_nested_state header is 128 bytes");

enum { PC_R_ES = 0, PC_R_CS = 1, PC_R_SS = 2, PC_R_DS = 3, PC_R_FS = 4, PC_R_GS = 5 };

#define PC_V_TPR_MASK 0x0f
#define PC_CR0_PE_MASK (1u << 0)
#define PC_DESC_DPL_SHIFT 13
#define PC_DESC_DPL_MASK (3u << PC_DESC_DPL_SHIFT)
#define PC_HF_CPL_MASK 3u
#define PC_HF_GUEST_MASK (1u << 21)
#define PC_HF2_NPT_MASK (1u << 6)
#define PC_EXCP01_DB 1
#define PC_EXCP0E_PAGE 14
#define PC_MSR_IA32_MISC_ENABLE_DEFAULT 1
#define PC_HV_REENLIGHTENMENT_ENABLE_BIT (1u << 16)

void pc_x86_cpu_init(PcX86CPU *cpu) {
    PcCPUX86State *env = &cpu->env;
    memset(cpu, 0, sizeof(*cpu));
    env->exception_nr = -1;
    env->poll_control_msr = 1;
    env->msr_ia32_misc_enable = PC_MSR_IA32_MISC_ENABLE_DEFAULT;
    env->a20_mask = ~0;
    env->fpuc = 0x37f;
    env->mxcsr = 0x1f80;
    for (int i = 0; i < 8; i++) {
        env->fptags[i] = 1;
    }
    env->eip = 0xfff0;
    env->eflags = 0x2;
    env->cr[0] = 0x60000010;
    env->segs[PC_R_CS].selector = 0xf000;
    env->segs[PC_R_CS].base = 0xffff0000;
    for (int i = 0; i < 6; i++) {
        env->segs[i].limit = 0xffff;
    }
    env->gdt.limit = 0xffff;
    env->idt.limit = 0xffff;
    env->ldt.limit = 0xffff;
    env->tr.limit = 0xffff;
    env->pat = 0x0007040600070406ull;
    env->smbase = 0x30000;
    cpu->migrate_smi_count = true;
    cpu->save_tsc_khz = true;
    cpu->tcg_enabled = true;
}

/* ---- nested descriptions ----------------------------------------------------------------- */

static const VMStateDescription pc_vmstate_segment = {
    .name = "segment",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(selector, PcSegmentCache),
        VMSTATE_UINT64(base, PcSegmentCache),
        VMSTATE_UINT32(limit, PcSegmentCache),
        VMSTATE_UINT32(flags, PcSegmentCache),
        VMSTATE_END_OF_LIST(),
    },
};

#define PC_VMSTATE_SEGMENT(_field, _state)                                                       \
    VMSTATE_STRUCT(_field, _state, 0, pc_vmstate_segment, PcSegmentCache)
#define PC_VMSTATE_SEGMENT_ARRAY(_field, _state, _n)                                             \
    VMSTATE_STRUCT_ARRAY(_field, _state, _n, 0, pc_vmstate_segment, PcSegmentCache)

static const VMStateDescription pc_vmstate_xmm_reg = {
    .name = "xmm_reg",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64(PC_ZMM_Q(0), PcZMMReg),
        VMSTATE_UINT64(PC_ZMM_Q(1), PcZMMReg),
        VMSTATE_END_OF_LIST(),
    },
};

/* bits 128..255 */
static const VMStateDescription pc_vmstate_ymmh_reg = {
    .name = "ymmh_reg",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64(PC_ZMM_Q(2), PcZMMReg),
        VMSTATE_UINT64(PC_ZMM_Q(3), PcZMMReg),
        VMSTATE_END_OF_LIST(),
    },
};

/* bits 256..511 */
static const VMStateDescription pc_vmstate_zmmh_reg = {
    .name = "zmmh_reg",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64(PC_ZMM_Q(4), PcZMMReg),
        VMSTATE_UINT64(PC_ZMM_Q(5), PcZMMReg),
        VMSTATE_UINT64(PC_ZMM_Q(6), PcZMMReg),
        VMSTATE_UINT64(PC_ZMM_Q(7), PcZMMReg),
        VMSTATE_END_OF_LIST(),
    },
};

/* registers 16..31, all 512 bits */
static const VMStateDescription pc_vmstate_hi16_zmm_reg = {
    .name = "hi16_zmm_reg",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64(PC_ZMM_Q(0), PcZMMReg),
        VMSTATE_UINT64(PC_ZMM_Q(1), PcZMMReg),
        VMSTATE_UINT64(PC_ZMM_Q(2), PcZMMReg),
        VMSTATE_UINT64(PC_ZMM_Q(3), PcZMMReg),
        VMSTATE_UINT64(PC_ZMM_Q(4), PcZMMReg),
        VMSTATE_UINT64(PC_ZMM_Q(5), PcZMMReg),
        VMSTATE_UINT64(PC_ZMM_Q(6), PcZMMReg),
        VMSTATE_UINT64(PC_ZMM_Q(7), PcZMMReg),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_bnd_regs = {
    .name = "bnd_regs",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64(lb, PcBNDReg),
        VMSTATE_UINT64(ub, PcBNDReg),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_mtrr_var = {
    .name = "mtrr_var",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64(base, PcMTRRVar),
        VMSTATE_UINT64(mask, PcMTRRVar),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_lbr_records_var = {
    .name = "lbr_records_var",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64(from, PcLBREntry),
        VMSTATE_UINT64(to, PcLBREntry),
        VMSTATE_UINT64(info, PcLBREntry),
        VMSTATE_END_OF_LIST(),
    },
};

/* An x87 register travels as mantissa then exponent, through a scratch struct. */
typedef struct PcFPRegTmp {
    PcFPReg *parent;
    uint64_t tmp_mant;
    uint16_t tmp_exp;
} PcFPRegTmp;

static int pc_fpreg_tmp_pre_save(void *opaque) {
    PcFPRegTmp *tmp = opaque;
    tmp->tmp_mant = tmp->parent->d.low;
    tmp->tmp_exp = tmp->parent->d.high;
    return 0;
}

static int pc_fpreg_tmp_post_load(void *opaque, int version_id) {
    PcFPRegTmp *tmp = opaque;
    (void)version_id;
    tmp->parent->d.low = tmp->tmp_mant;
    tmp->parent->d.high = tmp->tmp_exp;
    return 0;
}

static const VMStateDescription pc_vmstate_fpreg_tmp = {
    .name = "fpreg_tmp",
    .post_load = pc_fpreg_tmp_post_load,
    .pre_save = pc_fpreg_tmp_pre_save,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64(tmp_mant, PcFPRegTmp),
        VMSTATE_UINT16(tmp_exp, PcFPRegTmp),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_fpreg = {
    .name = "fpreg",
    .fields = (const VMStateField[]){
        VMSTATE_WITH_TMP(PcFPReg, PcFPRegTmp, pc_vmstate_fpreg_tmp),
        VMSTATE_END_OF_LIST(),
    },
};

/* ---- the CPU's own hooks ----------------------------------------------------------------- */

/* Real-mode segments must have DPL 0 (older KVM set it wrongly). */
static void pc_cpu_fix_real_mode_dpl(PcCPUX86State *env) {
    if (!(env->cr[0] & PC_CR0_PE_MASK) &&
        ((env->segs[PC_R_CS].flags >> PC_DESC_DPL_SHIFT) & 3) != 0) {
        static const int segs[] = {PC_R_CS, PC_R_DS, PC_R_ES, PC_R_FS, PC_R_GS, PC_R_SS};
        for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
            env->segs[segs[i]].flags &= ~PC_DESC_DPL_MASK;
        }
    }
}

static int pc_cpu_pre_save(void *opaque) {
    PcX86CPU *cpu = opaque;
    PcCPUX86State *env = &cpu->env;

    env->v_tpr = env->int_ctl & PC_V_TPR_MASK;
    env->fpus_vmstate = (uint16_t)((env->fpus & ~0x3800) | (env->fpstt & 0x7) << 11);
    env->fptag_vmstate = 0;
    for (int i = 0; i < 8; i++) {
        env->fptag_vmstate |= (uint16_t)((!env->fptags[i]) << i);
    }
    env->fpregs_format_vmstate = 0;
    pc_cpu_fix_real_mode_dpl(env);

    /* Outside guest mode a pending exception is saved as injected, its payload applied. */
    if (env->exception_pending && !(env->hflags & PC_HF_GUEST_MASK)) {
        env->exception_pending = 0;
        env->exception_injected = 1;
        if (env->exception_has_payload) {
            if (env->exception_nr == PC_EXCP01_DB) {
                env->dr[6] = env->exception_payload;
            } else if (env->exception_nr == PC_EXCP0E_PAGE) {
                env->cr[2] = env->exception_payload;
            }
        }
    }
    return 0;
}

static int pc_cpu_post_load(void *opaque, int version_id) {
    PcX86CPU *cpu = opaque;
    PcCPUX86State *env = &cpu->env;
    (void)version_id;

    if (env->tsc_khz && env->user_tsc_khz && env->tsc_khz != env->user_tsc_khz) {
        return -EINVAL; /* the user asked for another TSC frequency */
    }
    if (env->fpregs_format_vmstate) {
        return -EINVAL; /* the old non-softfloat format */
    }
    pc_cpu_fix_real_mode_dpl(env);
    /* the CPL is the SS descriptor's privilege level */
    env->hflags &= ~PC_HF_CPL_MASK;
    env->hflags |= (env->segs[PC_R_SS].flags >> PC_DESC_DPL_SHIFT) & PC_HF_CPL_MASK;

    if (env->exception_nr != -1 && !env->exception_pending && !env->exception_injected) {
        env->exception_injected = 1;
    }
    env->fpstt = (env->fpus_vmstate >> 11) & 7;
    env->fpus = env->fpus_vmstate & ~0x3800;
    env->fptag_vmstate ^= 0xff;
    for (int i = 0; i < 8; i++) {
        env->fptags[i] = (env->fptag_vmstate >> i) & 1;
    }
    return 0;
}

/* ---- subsections ------------------------------------------------------------------------- */

#define PC_CPU_NEEDED(_name, _expr)                                                              \
    static bool _name(void *opaque) {                                                            \
        const PcX86CPU *cpu = opaque;                                                            \
        const PcCPUX86State *env = &cpu->env;                                                    \
        (void)cpu;                                                                               \
        (void)env;                                                                               \
        return (_expr);                                                                          \
    }

static bool pc_any_nonzero(const uint64_t *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (v[i] != 0) {
            return true;
        }
    }
    return false;
}

PC_CPU_NEEDED(pc_exception_info_needed,
              env->exception_pending && (env->hflags & PC_HF_GUEST_MASK))
PC_CPU_NEEDED(pc_async_pf_msr_needed, env->async_pf_en_msr != 0)
PC_CPU_NEEDED(pc_async_pf_int_msr_needed, env->async_pf_int_msr != 0)
PC_CPU_NEEDED(pc_pv_eoi_msr_needed, env->pv_eoi_en_msr != 0)
PC_CPU_NEEDED(pc_steal_time_msr_needed, env->steal_time_msr != 0)
PC_CPU_NEEDED(pc_poll_control_msr_needed, env->poll_control_msr != 1)
PC_CPU_NEEDED(pc_fpop_ip_dp_needed, env->fpop != 0 || env->fpip != 0 || env->fpdp != 0)
PC_CPU_NEEDED(pc_tsc_adjust_needed, env->tsc_adjust != 0)
PC_CPU_NEEDED(pc_tscdeadline_needed, env->tsc_deadline != 0)
PC_CPU_NEEDED(pc_misc_enable_needed,
              env->msr_ia32_misc_enable != PC_MSR_IA32_MISC_ENABLE_DEFAULT)
PC_CPU_NEEDED(pc_feature_control_needed, env->msr_ia32_feature_control != 0)
PC_CPU_NEEDED(pc_pmu_enable_needed,
              env->msr_fixed_ctr_ctrl || env->msr_global_ctrl || env->msr_global_status ||
                  env->msr_global_ovf_ctrl ||
                  pc_any_nonzero(env->msr_fixed_counters, PC_MAX_FIXED_COUNTERS) ||
                  pc_any_nonzero(env->msr_gp_counters, PC_MAX_GP_COUNTERS) ||
                  pc_any_nonzero(env->msr_gp_evtsel, PC_MAX_GP_COUNTERS))
PC_CPU_NEEDED(pc_mpx_needed,
              pc_any_nonzero(&env->bnd_regs[0].lb, 8) || env->bndcs_regs.cfgu ||
                  env->bndcs_regs.sts || env->msr_bndcfgs)
PC_CPU_NEEDED(pc_hyperv_hypercall_needed,
              env->msr_hv_hypercall != 0 || env->msr_hv_guest_os_id != 0)
PC_CPU_NEEDED(pc_hyperv_vapic_needed, env->msr_hv_vapic != 0)
PC_CPU_NEEDED(pc_hyperv_time_needed, env->msr_hv_tsc != 0)
PC_CPU_NEEDED(pc_hyperv_crash_needed, pc_any_nonzero(env->msr_hv_crash_params, PC_HV_CRASH_PARAMS))
PC_CPU_NEEDED(pc_hyperv_runtime_needed, cpu->hyperv_runtime && env->msr_hv_runtime != 0)
PC_CPU_NEEDED(pc_hyperv_synic_needed,
              env->msr_hv_synic_control != 0 || env->msr_hv_synic_evt_page != 0 ||
                  env->msr_hv_synic_msg_page != 0 ||
                  pc_any_nonzero(env->msr_hv_synic_sint, PC_HV_SINT_COUNT))
PC_CPU_NEEDED(pc_hyperv_stimer_needed,
              pc_any_nonzero(env->msr_hv_stimer_config, PC_HV_STIMER_COUNT) ||
                  pc_any_nonzero(env->msr_hv_stimer_count, PC_HV_STIMER_COUNT))
PC_CPU_NEEDED(pc_hyperv_reenlightenment_needed,
              env->msr_hv_reenlightenment_control != 0 ||
                  env->msr_hv_tsc_emulation_control != 0 ||
                  env->msr_hv_tsc_emulation_status != 0)
PC_CPU_NEEDED(pc_xss_needed, env->xss != 0)
PC_CPU_NEEDED(pc_umwait_needed, env->umwait != 0)
PC_CPU_NEEDED(pc_pkru_needed, env->pkru != 0)
PC_CPU_NEEDED(pc_pkrs_needed, env->pkrs != 0)
PC_CPU_NEEDED(pc_tsc_khz_needed, env->tsc_khz && cpu->save_tsc_khz)
PC_CPU_NEEDED(pc_msr_smi_count_needed, cpu->migrate_smi_count && env->msr_smi_count != 0)
PC_CPU_NEEDED(pc_mcg_ext_ctl_needed, cpu->enable_lmce && env->mcg_ext_ctl)
PC_CPU_NEEDED(pc_spec_ctrl_needed, env->spec_ctrl != 0)
PC_CPU_NEEDED(pc_amd_tsc_scale_msr_needed, cpu->has_svm_tscscale)
PC_CPU_NEEDED(pc_intel_pt_needed,
              env->msr_rtit_ctrl || env->msr_rtit_status || env->msr_rtit_output_base ||
                  env->msr_rtit_output_mask || env->msr_rtit_cr3_match ||
                  pc_any_nonzero(env->msr_rtit_addrs, PC_MAX_RTIT_ADDRS))
PC_CPU_NEEDED(pc_virt_ssbd_needed, env->virt_ssbd != 0)
PC_CPU_NEEDED(pc_svm_npt_needed, (env->hflags2 & PC_HF2_NPT_MASK) != 0)
PC_CPU_NEEDED(pc_svm_guest_needed, cpu->tcg_enabled && env->int_ctl)
PC_CPU_NEEDED(pc_msr_tsx_ctrl_needed, cpu->has_tsx_ctrl_msr)
PC_CPU_NEEDED(pc_intel_sgx_needed, cpu->has_sgx_lc)
PC_CPU_NEEDED(pc_pdptrs_needed, env->pdptrs_valid)
PC_CPU_NEEDED(pc_xfd_needed, cpu->has_xfd)
PC_CPU_NEEDED(pc_amx_xtile_needed, cpu->has_amx_tile)
PC_CPU_NEEDED(pc_arch_lbr_needed, cpu->has_arch_lbr)
PC_CPU_NEEDED(pc_triple_fault_needed, env->triple_fault_pending)

static bool pc_avx512_needed(void *opaque) {
    const PcCPUX86State *env = &((const PcX86CPU *)opaque)->env;
    if (pc_any_nonzero(env->opmask_regs, PC_NB_OPMASK_REGS)) {
        return true;
    }
    for (int i = 0; i < PC_CPU_NB_REGS; i++) {
        if (pc_any_nonzero(&env->xmm_regs[i].PC_ZMM_Q(4), 4) ||
            pc_any_nonzero(&env->xmm_regs[i + 16].PC_ZMM_Q(0), 8)) {
            return true;
        }
    }
    return false;
}

static int pc_hyperv_reenlightenment_post_load(void *opaque, int version_id) {
    const PcX86CPU *cpu = opaque;
    (void)version_id;
    /* re-enlightenment needs a fixed TSC frequency */
    if ((cpu->env.msr_hv_reenlightenment_control & PC_HV_REENLIGHTENMENT_ENABLE_BIT) &&
        !cpu->env.user_tsc_khz) {
        return -EINVAL;
    }
    return 0;
}

static int pc_pdptrs_post_load(void *opaque, int version_id) {
    PcX86CPU *cpu = opaque;
    (void)version_id;
    cpu->env.pdptrs_valid = true;
    return 0;
}

#define PC_CPU_SUBSECTION(_var, _name, _needed, ...)                                             \
    static const VMStateDescription _var = {                                                     \
        .name = _name,                                                                           \
        .version_id = 1,                                                                         \
        .minimum_version_id = 1,                                                                 \
        .needed = _needed,                                                                       \
        .fields = (const VMStateField[]){__VA_ARGS__, VMSTATE_END_OF_LIST()},                    \
    }

PC_CPU_SUBSECTION(pc_vmstate_exception_info, "cpu/exception_info", pc_exception_info_needed,
                  VMSTATE_UINT8(env.exception_pending, PcX86CPU),
                  VMSTATE_UINT8(env.exception_injected, PcX86CPU),
                  VMSTATE_UINT8(env.exception_has_payload, PcX86CPU),
                  VMSTATE_UINT64(env.exception_payload, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_async_pf_msr, "cpu/async_pf_msr", pc_async_pf_msr_needed,
                  VMSTATE_UINT64(env.async_pf_en_msr, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_async_pf_int_msr, "cpu/async_pf_int_msr",
                  pc_async_pf_int_msr_needed, VMSTATE_UINT64(env.async_pf_int_msr, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_pv_eoi_msr, "cpu/async_pv_eoi_msr", pc_pv_eoi_msr_needed,
                  VMSTATE_UINT64(env.pv_eoi_en_msr, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_steal_time_msr, "cpu/steal_time_msr", pc_steal_time_msr_needed,
                  VMSTATE_UINT64(env.steal_time_msr, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_poll_control_msr, "cpu/poll_control_msr",
                  pc_poll_control_msr_needed, VMSTATE_UINT64(env.poll_control_msr, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_fpop_ip_dp, "cpu/fpop_ip_dp", pc_fpop_ip_dp_needed,
                  VMSTATE_UINT16(env.fpop, PcX86CPU), VMSTATE_UINT64(env.fpip, PcX86CPU),
                  VMSTATE_UINT64(env.fpdp, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_msr_tsc_adjust, "cpu/msr_tsc_adjust", pc_tsc_adjust_needed,
                  VMSTATE_UINT64(env.tsc_adjust, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_msr_smi_count, "cpu/msr_smi_count", pc_msr_smi_count_needed,
                  VMSTATE_UINT64(env.msr_smi_count, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_msr_tscdeadline, "cpu/msr_tscdeadline", pc_tscdeadline_needed,
                  VMSTATE_UINT64(env.tsc_deadline, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_msr_ia32_misc_enable, "cpu/msr_ia32_misc_enable",
                  pc_misc_enable_needed, VMSTATE_UINT64(env.msr_ia32_misc_enable, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_msr_ia32_feature_control, "cpu/msr_ia32_feature_control",
                  pc_feature_control_needed,
                  VMSTATE_UINT64(env.msr_ia32_feature_control, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_msr_architectural_pmu, "cpu/msr_architectural_pmu",
                  pc_pmu_enable_needed, VMSTATE_UINT64(env.msr_fixed_ctr_ctrl, PcX86CPU),
                  VMSTATE_UINT64(env.msr_global_ctrl, PcX86CPU),
                  VMSTATE_UINT64(env.msr_global_status, PcX86CPU),
                  VMSTATE_UINT64(env.msr_global_ovf_ctrl, PcX86CPU),
                  VMSTATE_UINT64_ARRAY(env.msr_fixed_counters, PcX86CPU, PC_MAX_FIXED_COUNTERS),
                  VMSTATE_UINT64_ARRAY(env.msr_gp_counters, PcX86CPU, PC_MAX_GP_COUNTERS),
                  VMSTATE_UINT64_ARRAY(env.msr_gp_evtsel, PcX86CPU, PC_MAX_GP_COUNTERS));
PC_CPU_SUBSECTION(pc_vmstate_mpx, "cpu/mpx", pc_mpx_needed,
                  VMSTATE_STRUCT_ARRAY(env.bnd_regs, PcX86CPU, 4, 0, pc_vmstate_bnd_regs,
                                       PcBNDReg),
                  VMSTATE_UINT64(env.bndcs_regs.cfgu, PcX86CPU),
                  VMSTATE_UINT64(env.bndcs_regs.sts, PcX86CPU),
                  VMSTATE_UINT64(env.msr_bndcfgs, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_msr_hyperv_hypercall, "cpu/msr_hyperv_hypercall",
                  pc_hyperv_hypercall_needed, VMSTATE_UINT64(env.msr_hv_guest_os_id, PcX86CPU),
                  VMSTATE_UINT64(env.msr_hv_hypercall, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_msr_hyperv_vapic, "cpu/msr_hyperv_vapic", pc_hyperv_vapic_needed,
                  VMSTATE_UINT64(env.msr_hv_vapic, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_msr_hyperv_time, "cpu/msr_hyperv_time", pc_hyperv_time_needed,
                  VMSTATE_UINT64(env.msr_hv_tsc, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_msr_hyperv_crash, "cpu/msr_hyperv_crash", pc_hyperv_crash_needed,
                  VMSTATE_UINT64_ARRAY(env.msr_hv_crash_params, PcX86CPU, PC_HV_CRASH_PARAMS));
PC_CPU_SUBSECTION(pc_vmstate_msr_hyperv_runtime, "cpu/msr_hyperv_runtime",
                  pc_hyperv_runtime_needed, VMSTATE_UINT64(env.msr_hv_runtime, PcX86CPU));
/* QEMU's post_load re-derives the SynIC pages from these MSRs */
PC_CPU_SUBSECTION(pc_vmstate_msr_hyperv_synic, "cpu/msr_hyperv_synic", pc_hyperv_synic_needed,
                  VMSTATE_UINT64(env.msr_hv_synic_control, PcX86CPU),
                  VMSTATE_UINT64(env.msr_hv_synic_evt_page, PcX86CPU),
                  VMSTATE_UINT64(env.msr_hv_synic_msg_page, PcX86CPU),
                  VMSTATE_UINT64_ARRAY(env.msr_hv_synic_sint, PcX86CPU, PC_HV_SINT_COUNT));
PC_CPU_SUBSECTION(pc_vmstate_msr_hyperv_stimer, "cpu/msr_hyperv_stimer",
                  pc_hyperv_stimer_needed,
                  VMSTATE_UINT64_ARRAY(env.msr_hv_stimer_config, PcX86CPU, PC_HV_STIMER_COUNT),
                  VMSTATE_UINT64_ARRAY(env.msr_hv_stimer_count, PcX86CPU, PC_HV_STIMER_COUNT));

static const VMStateDescription pc_vmstate_msr_hyperv_reenlightenment = {
    .name = "cpu/msr_hyperv_reenlightenment",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_hyperv_reenlightenment_needed,
    .post_load = pc_hyperv_reenlightenment_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64(env.msr_hv_reenlightenment_control, PcX86CPU),
        VMSTATE_UINT64(env.msr_hv_tsc_emulation_control, PcX86CPU),
        VMSTATE_UINT64(env.msr_hv_tsc_emulation_status, PcX86CPU),
        VMSTATE_END_OF_LIST(),
    },
};

PC_CPU_SUBSECTION(pc_vmstate_avx512, "cpu/avx512", pc_avx512_needed,
                  VMSTATE_UINT64_ARRAY(env.opmask_regs, PcX86CPU, PC_NB_OPMASK_REGS),
                  VMSTATE_STRUCT_SUB_ARRAY(env.xmm_regs, PcX86CPU, 0, PC_CPU_NB_REGS, 0,
                                           pc_vmstate_zmmh_reg, PcZMMReg),
                  VMSTATE_STRUCT_SUB_ARRAY(env.xmm_regs, PcX86CPU, 16, PC_CPU_NB_REGS, 0,
                                           pc_vmstate_hi16_zmm_reg, PcZMMReg));
PC_CPU_SUBSECTION(pc_vmstate_xss, "cpu/xss", pc_xss_needed, VMSTATE_UINT64(env.xss, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_umwait, "cpu/umwait", pc_umwait_needed,
                  VMSTATE_UINT32(env.umwait, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_pkru, "cpu/pkru", pc_pkru_needed,
                  VMSTATE_UINT32(env.pkru, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_pkrs, "cpu/pkrs", pc_pkrs_needed,
                  VMSTATE_UINT32(env.pkrs, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_tsc_khz, "cpu/tsc_khz", pc_tsc_khz_needed,
                  VMSTATE_INT64(env.tsc_khz, PcX86CPU));

/* ---- KVM nested virtualisation state ----------------------------------------------------- */

static bool pc_vmx_vmcs12_needed(void *opaque) {
    const PcKvmNestedState *ns = opaque;
    return ns->size > offsetof(PcKvmNestedState, data.vmx[0].vmcs12);
}

static bool pc_vmx_shadow_vmcs12_needed(void *opaque) {
    const PcKvmNestedState *ns = opaque;
    return ns->size > offsetof(PcKvmNestedState, data.vmx[0].shadow_vmcs12);
}

static bool pc_vmx_nested_state_needed(void *opaque) {
    const PcKvmNestedState *ns = opaque;
    return ns->format == PC_KVM_STATE_NESTED_FORMAT_VMX && ns->hdr.vmx.vmxon_pa != ~0ull;
}

static bool pc_svm_nested_state_needed(void *opaque) {
    const PcKvmNestedState *ns = opaque;
    return ns->format == PC_KVM_STATE_NESTED_FORMAT_SVM &&
           ns->size > offsetof(PcKvmNestedState, data);
}

static const VMStateDescription pc_vmstate_vmx_vmcs12 = {
    .name = "cpu/kvm_nested_state/vmx/vmcs12",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_vmx_vmcs12_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8_ARRAY(data.vmx[0].vmcs12, PcKvmNestedState, PC_KVM_STATE_NESTED_VMCS_SIZE),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_vmx_shadow_vmcs12 = {
    .name = "cpu/kvm_nested_state/vmx/shadow_vmcs12",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_vmx_shadow_vmcs12_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8_ARRAY(data.vmx[0].shadow_vmcs12, PcKvmNestedState,
                            PC_KVM_STATE_NESTED_VMCS_SIZE),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_vmx_nested_state = {
    .name = "cpu/kvm_nested_state/vmx",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_vmx_nested_state_needed,
    .fields = (const VMStateField[]){
        VMSTATE_U64(hdr.vmx.vmxon_pa, PcKvmNestedState),
        VMSTATE_U64(hdr.vmx.vmcs12_pa, PcKvmNestedState),
        VMSTATE_U16(hdr.vmx.smm.flags, PcKvmNestedState),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &pc_vmstate_vmx_vmcs12,
        &pc_vmstate_vmx_shadow_vmcs12,
        NULL,
    },
};

static const VMStateDescription pc_vmstate_svm_nested_state = {
    .name = "cpu/kvm_nested_state/svm",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_svm_nested_state_needed,
    .fields = (const VMStateField[]){
        VMSTATE_U64(hdr.svm.vmcb_pa, PcKvmNestedState),
        VMSTATE_UINT8_ARRAY(data.svm[0].vmcb12, PcKvmNestedState, PC_KVM_STATE_NESTED_VMCS_SIZE),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_kvm_nested_state = {
    .name = "cpu/kvm_nested_state",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_U16(flags, PcKvmNestedState),
        VMSTATE_U16(format, PcKvmNestedState),
        VMSTATE_U32(size, PcKvmNestedState),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &pc_vmstate_vmx_nested_state,
        &pc_vmstate_svm_nested_state,
        NULL,
    },
};

static bool pc_nested_state_needed(void *opaque) {
    const PcX86CPU *cpu = opaque;
    const PcKvmNestedState *ns = cpu->env.nested_state;
    return ns != NULL &&
           (pc_vmx_nested_state_needed((void *)ns) || pc_svm_nested_state_needed((void *)ns));
}

/* The size and format come from the stream: QEMU checks them against what its kernel (here:
 * the struct) can hold before anything uses them. */
static int pc_nested_state_post_load(void *opaque, int version_id) {
    const PcX86CPU *cpu = opaque;
    const PcKvmNestedState *ns = cpu->env.nested_state;
    (void)version_id;
    if (ns == NULL) {
        return -EINVAL;
    }
    if (ns->size < offsetof(PcKvmNestedState, data) || ns->size > sizeof(PcKvmNestedState)) {
        return -EINVAL;
    }
    if (ns->format != PC_KVM_STATE_NESTED_FORMAT_VMX &&
        ns->format != PC_KVM_STATE_NESTED_FORMAT_SVM) {
        return -EINVAL;
    }
    return 0;
}

static const VMStateDescription pc_vmstate_nested_state = {
    .name = "cpu/nested_state",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_nested_state_needed,
    .post_load = pc_nested_state_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_STRUCT_POINTER(env.nested_state, PcX86CPU, pc_vmstate_kvm_nested_state,
                               PcKvmNestedState),
        VMSTATE_END_OF_LIST(),
    },
};

/* ---- the rest of the subsections --------------------------------------------------------- */

PC_CPU_SUBSECTION(pc_vmstate_mcg_ext_ctl, "cpu/mcg_ext_ctl", pc_mcg_ext_ctl_needed,
                  VMSTATE_UINT64(env.mcg_ext_ctl, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_spec_ctrl, "cpu/spec_ctrl", pc_spec_ctrl_needed,
                  VMSTATE_UINT64(env.spec_ctrl, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_amd_tsc_scale_msr, "cpu/amd_tsc_scale_msr",
                  pc_amd_tsc_scale_msr_needed, VMSTATE_UINT64(env.amd_tsc_scale_msr, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_msr_intel_pt, "cpu/intel_pt", pc_intel_pt_needed,
                  VMSTATE_UINT64(env.msr_rtit_ctrl, PcX86CPU),
                  VMSTATE_UINT64(env.msr_rtit_status, PcX86CPU),
                  VMSTATE_UINT64(env.msr_rtit_output_base, PcX86CPU),
                  VMSTATE_UINT64(env.msr_rtit_output_mask, PcX86CPU),
                  VMSTATE_UINT64(env.msr_rtit_cr3_match, PcX86CPU),
                  VMSTATE_UINT64_ARRAY(env.msr_rtit_addrs, PcX86CPU, PC_MAX_RTIT_ADDRS));
PC_CPU_SUBSECTION(pc_vmstate_msr_virt_ssbd, "cpu/virt_ssbd", pc_virt_ssbd_needed,
                  VMSTATE_UINT64(env.virt_ssbd, PcX86CPU));
/* "svn" (sic): QEMU's name */
PC_CPU_SUBSECTION(pc_vmstate_svm_npt, "cpu/svn_npt", pc_svm_npt_needed,
                  VMSTATE_UINT64(env.nested_cr3, PcX86CPU),
                  VMSTATE_UINT32(env.nested_pg_mode, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_svm_guest, "cpu/svm_guest", pc_svm_guest_needed,
                  VMSTATE_UINT32(env.int_ctl, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_msr_tsx_ctrl, "cpu/msr_tsx_ctrl", pc_msr_tsx_ctrl_needed,
                  VMSTATE_UINT32(env.tsx_ctrl, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_msr_intel_sgx, "cpu/intel_sgx", pc_intel_sgx_needed,
                  VMSTATE_UINT64_ARRAY(env.msr_ia32_sgxlepubkeyhash, PcX86CPU, 4));

static const VMStateDescription pc_vmstate_pdptrs = {
    .name = "cpu/pdptrs",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_pdptrs_needed,
    .post_load = pc_pdptrs_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64_ARRAY(env.pdptrs, PcX86CPU, 4),
        VMSTATE_END_OF_LIST(),
    },
};

PC_CPU_SUBSECTION(pc_vmstate_msr_xfd, "cpu/msr_xfd", pc_xfd_needed,
                  VMSTATE_UINT64(env.msr_xfd, PcX86CPU), VMSTATE_UINT64(env.msr_xfd_err, PcX86CPU));
PC_CPU_SUBSECTION(pc_vmstate_amx_xtile, "cpu/intel_amx_xtile", pc_amx_xtile_needed,
                  VMSTATE_UINT8_ARRAY(env.xtilecfg, PcX86CPU, 64),
                  VMSTATE_UINT8_ARRAY(env.xtiledata, PcX86CPU, 8192));
PC_CPU_SUBSECTION(pc_vmstate_arch_lbr, "cpu/arch_lbr", pc_arch_lbr_needed,
                  VMSTATE_UINT64(env.msr_lbr_ctl, PcX86CPU),
                  VMSTATE_UINT64(env.msr_lbr_depth, PcX86CPU),
                  VMSTATE_STRUCT_ARRAY(env.lbr_records, PcX86CPU, PC_ARCH_LBR_NR_ENTRIES, 1,
                                       pc_vmstate_lbr_records_var, PcLBREntry));
PC_CPU_SUBSECTION(pc_vmstate_triple_fault, "cpu/triple_fault", pc_triple_fault_needed,
                  VMSTATE_UINT8(env.triple_fault_pending, PcX86CPU));

/* ---- cpu --------------------------------------------------------------------------------- */

const VMStateDescription pc_vmstate_x86_cpu = {
    .name = "cpu",
    .version_id = 12,
    .minimum_version_id = 11,
    .pre_save = pc_cpu_pre_save,
    .post_load = pc_cpu_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64_ARRAY(env.regs, PcX86CPU, PC_CPU_NB_REGS),
        VMSTATE_UINT64(env.eip, PcX86CPU),
        VMSTATE_UINT64(env.eflags, PcX86CPU),
        VMSTATE_UINT32(env.hflags, PcX86CPU),
        /* FPU */
        VMSTATE_UINT16(env.fpuc, PcX86CPU),
        VMSTATE_UINT16(env.fpus_vmstate, PcX86CPU),
        VMSTATE_UINT16(env.fptag_vmstate, PcX86CPU),
        VMSTATE_UINT16(env.fpregs_format_vmstate, PcX86CPU),
        VMSTATE_STRUCT_ARRAY(env.fpregs, PcX86CPU, 8, 0, pc_vmstate_fpreg, PcFPReg),

        PC_VMSTATE_SEGMENT_ARRAY(env.segs, PcX86CPU, 6),
        PC_VMSTATE_SEGMENT(env.ldt, PcX86CPU),
        PC_VMSTATE_SEGMENT(env.tr, PcX86CPU),
        PC_VMSTATE_SEGMENT(env.gdt, PcX86CPU),
        PC_VMSTATE_SEGMENT(env.idt, PcX86CPU),

        VMSTATE_UINT32(env.sysenter_cs, PcX86CPU),
        VMSTATE_UINT64(env.sysenter_esp, PcX86CPU),
        VMSTATE_UINT64(env.sysenter_eip, PcX86CPU),

        VMSTATE_UINT64(env.cr[0], PcX86CPU),
        VMSTATE_UINT64(env.cr[2], PcX86CPU),
        VMSTATE_UINT64(env.cr[3], PcX86CPU),
        VMSTATE_UINT64(env.cr[4], PcX86CPU),
        VMSTATE_UINT64_ARRAY(env.dr, PcX86CPU, 8),
        /* MMU */
        VMSTATE_INT32(env.a20_mask, PcX86CPU),
        /* XMM */
        VMSTATE_UINT32(env.mxcsr, PcX86CPU),
        VMSTATE_STRUCT_SUB_ARRAY(env.xmm_regs, PcX86CPU, 0, PC_CPU_NB_REGS, 0,
                                 pc_vmstate_xmm_reg, PcZMMReg),

        VMSTATE_UINT64(env.efer, PcX86CPU),
        VMSTATE_UINT64(env.star, PcX86CPU),
        VMSTATE_UINT64(env.lstar, PcX86CPU),
        VMSTATE_UINT64(env.cstar, PcX86CPU),
        VMSTATE_UINT64(env.fmask, PcX86CPU),
        VMSTATE_UINT64(env.kernelgsbase, PcX86CPU),
        VMSTATE_UINT32(env.smbase, PcX86CPU),

        VMSTATE_UINT64(env.pat, PcX86CPU),
        VMSTATE_UINT32(env.hflags2, PcX86CPU),

        VMSTATE_UINT64(env.vm_hsave, PcX86CPU),
        VMSTATE_UINT64(env.vm_vmcb, PcX86CPU),
        VMSTATE_UINT64(env.tsc_offset, PcX86CPU),
        VMSTATE_UINT64(env.intercept, PcX86CPU),
        VMSTATE_UINT16(env.intercept_cr_read, PcX86CPU),
        VMSTATE_UINT16(env.intercept_cr_write, PcX86CPU),
        VMSTATE_UINT16(env.intercept_dr_read, PcX86CPU),
        VMSTATE_UINT16(env.intercept_dr_write, PcX86CPU),
        VMSTATE_UINT32(env.intercept_exceptions, PcX86CPU),
        VMSTATE_UINT8(env.v_tpr, PcX86CPU),
        /* MTRRs */
        VMSTATE_UINT64_ARRAY(env.mtrr_fixed, PcX86CPU, 11),
        VMSTATE_UINT64(env.mtrr_deftype, PcX86CPU),
        VMSTATE_STRUCT_ARRAY(env.mtrr_var, PcX86CPU, PC_MSR_MTRRCAP_VCNT, 8,
                             pc_vmstate_mtrr_var, PcMTRRVar),
        /* KVM-related states */
        VMSTATE_INT32(env.interrupt_injected, PcX86CPU),
        VMSTATE_UINT32(env.mp_state, PcX86CPU),
        VMSTATE_UINT64(env.tsc, PcX86CPU),
        VMSTATE_INT32(env.exception_nr, PcX86CPU),
        VMSTATE_UINT8(env.soft_interrupt, PcX86CPU),
        VMSTATE_UINT8(env.nmi_injected, PcX86CPU),
        VMSTATE_UINT8(env.nmi_pending, PcX86CPU),
        VMSTATE_UINT8(env.has_error_code, PcX86CPU),
        VMSTATE_UINT32(env.sipi_vector, PcX86CPU),
        /* MCE */
        VMSTATE_UINT64(env.mcg_cap, PcX86CPU),
        VMSTATE_UINT64(env.mcg_status, PcX86CPU),
        VMSTATE_UINT64(env.mcg_ctl, PcX86CPU),
        VMSTATE_UINT64_ARRAY(env.mce_banks, PcX86CPU, PC_MCE_BANKS_DEF * 4),
        /* rdtscp */
        VMSTATE_UINT64(env.tsc_aux, PcX86CPU),
        /* KVM pvclock msr */
        VMSTATE_UINT64(env.system_time_msr, PcX86CPU),
        VMSTATE_UINT64(env.wall_clock_msr, PcX86CPU),
        /* XSAVE related fields */
        VMSTATE_UINT64_V(env.xcr0, PcX86CPU, 12),
        VMSTATE_UINT64_V(env.xstate_bv, PcX86CPU, 12),
        VMSTATE_STRUCT_SUB_ARRAY(env.xmm_regs, PcX86CPU, 0, PC_CPU_NB_REGS, 12,
                                 pc_vmstate_ymmh_reg, PcZMMReg),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &pc_vmstate_exception_info,
        &pc_vmstate_async_pf_msr,
        &pc_vmstate_async_pf_int_msr,
        &pc_vmstate_pv_eoi_msr,
        &pc_vmstate_steal_time_msr,
        &pc_vmstate_poll_control_msr,
        &pc_vmstate_fpop_ip_dp,
        &pc_vmstate_msr_tsc_adjust,
        &pc_vmstate_msr_tscdeadline,
        &pc_vmstate_msr_ia32_misc_enable,
        &pc_vmstate_msr_ia32_feature_control,
        &pc_vmstate_msr_architectural_pmu,
        &pc_vmstate_mpx,
        &pc_vmstate_msr_hyperv_hypercall,
        &pc_vmstate_msr_hyperv_vapic,
        &pc_vmstate_msr_hyperv_time,
        &pc_vmstate_msr_hyperv_crash,
        &pc_vmstate_msr_hyperv_runtime,
        &pc_vmstate_msr_hyperv_synic,
        &pc_vmstate_msr_hyperv_stimer,
        &pc_vmstate_msr_hyperv_reenlightenment,
        &pc_vmstate_avx512,
        &pc_vmstate_xss,
        &pc_vmstate_umwait,
        &pc_vmstate_tsc_khz,
        &pc_vmstate_msr_smi_count,
        &pc_vmstate_pkru,
        &pc_vmstate_pkrs,
        &pc_vmstate_spec_ctrl,
        &pc_vmstate_amd_tsc_scale_msr,
        &pc_vmstate_mcg_ext_ctl,
        &pc_vmstate_msr_intel_pt,
        &pc_vmstate_msr_virt_ssbd,
        &pc_vmstate_svm_npt,
        &pc_vmstate_svm_guest,
        &pc_vmstate_nested_state,
        &pc_vmstate_msr_tsx_ctrl,
        &pc_vmstate_msr_intel_sgx,
        &pc_vmstate_pdptrs,
        &pc_vmstate_msr_xfd,
        &pc_vmstate_amx_xtile,
        &pc_vmstate_arch_lbr,
        &pc_vmstate_triple_fault,
        NULL,
    },
};
