/* Descriptions shared between the engine fixture files (not seen by Swift). */
#ifndef ENG_INTERNAL_H
#define ENG_INTERNAL_H
#include "engine_fixtures.h"

extern const VMStateDescription eng_inner_vmsd;  /* "eng-inner" */
extern const VMStateDescription eng_vinner_vmsd; /* "eng-vinner" */

#endif
