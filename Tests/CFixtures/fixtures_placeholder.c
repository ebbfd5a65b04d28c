#include "cfixtures.h"
