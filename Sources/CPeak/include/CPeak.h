#ifndef LOCKSTEP_CPEAK_H
#define LOCKSTEP_CPEAK_H
#include <stdint.h>

/// The vector width a core's peak FMA loop can use, widest first.
typedef enum {
    lockstep_fma_avx512 = 16,  ///< AVX-512F: 16 floats per FMA
    lockstep_fma_avx2 = 8,     ///< AVX2 with FMA3: 8 floats per FMA
    lockstep_fma_none = 0,     ///< neither (the loop is not run)
} lockstep_fma_width;

/// The widest FMA this CPU runs (cpuid, through the compiler's CPU detection).
lockstep_fma_width lockstep_fma_widest(void);

/// Runs `iterations` rounds of independent fused multiply-adds on `width` lanes held in
/// registers (no memory traffic), enough chains to hide the FMA latency on two FMA units, and
/// returns the floating-point operations done (2 per lane per FMA), or 0 for `lockstep_fma_none`.
uint64_t lockstep_fma_loop(uint64_t iterations, lockstep_fma_width width);

#endif
