/* Test-only C devices described with the VMSTATE_* macros. */
#ifndef CFIXTURES_H
#define CFIXTURES_H
#include "migration/vmstate.h"
#endif
