#ifndef LOCKSTEP_CZLIB_SHIM_H
#define LOCKSTEP_CZLIB_SHIM_H
// zlib: gzopen/gzread read gzip'd and raw files alike.
#include <zlib.h>
#endif
