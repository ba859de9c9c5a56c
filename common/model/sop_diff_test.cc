#include "common/model/sop_diff.h"
