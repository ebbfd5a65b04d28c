/*
 * Test-only C devices described with the VMSTATE_* macros, as a QEMU 7.2 device author would
 * write them. Together they use every one of QEMU 7.2's 153 VMSTATE_* macros;
 * fx_expectations.h pairs one use of each with its field written out by hand.
 */
#ifndef CFIXTURES_H
#define CFIXTURES_H

#include "migration/vmstate.h"

#include "fx_common.h"
#include "fx_rtc.h"
#include "fx_board.h"
#include "fx_dma.h"
#include "fx_nic.h"
#include "fx_queues.h"
#include "fx_cpu.h"
#include "fx_expectations.h"

#endif
