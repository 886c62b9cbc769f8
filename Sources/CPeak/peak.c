// The register-resident FMA loop behind `lockstep bench peak`: the fp32 rate one core can
// reach, the denominator of model FLOPs utilisation.
#include "CPeak.h"
#include <immintrin.h>

lockstep_fma_width lockstep_fma_widest(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return lockstep_fma_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return lockstep_fma_avx2;
    return lockstep_fma_none;
}

// Twelve independent accumulators: an FMA has 4 cycles of latency and a core issues up to two
// per cycle, so at least eight chains are needed to keep both units busy.
#define CHAINS 12

// The multiplier keeps the accumulators finite: a·x + y with a just under 1 converges.
__attribute__((target("avx512f"))) static uint64_t loop512(uint64_t iterations) {
    __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    __m512 acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
    for (uint64_t n = 0; n < iterations; n++) {
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
        __asm__ volatile("" : "+v"(acc[0]), "+v"(acc[1]), "+v"(acc[2]), "+v"(acc[3]), "+v"(acc[4]), "+v"(acc[5]),
                         "+v"(acc[6]), "+v"(acc[7]), "+v"(acc[8]), "+v"(acc[9]), "+v"(acc[10]), "+v"(acc[11]));
    }
    __m512 sum = acc[0];
    for (int i = 1; i < CHAINS; i++) sum = _mm512_add_ps(sum, acc[i]);
    volatile float sink = _mm512_reduce_add_ps(sum);
    (void)sink;
    return iterations * CHAINS * 16 * 2;
}

__attribute__((target("avx2,fma"))) static uint64_t loop256(uint64_t iterations) {
    __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    __m256 acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_set1_ps((float)i);
    for (uint64_t n = 0; n < iterations; n++) {
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
        __asm__ volatile("" : "+x"(acc[0]), "+x"(acc[1]), "+x"(acc[2]), "+x"(acc[3]), "+x"(acc[4]), "+x"(acc[5]),
                         "+x"(acc[6]), "+x"(acc[7]), "+x"(acc[8]), "+x"(acc[9]), "+x"(acc[10]), "+x"(acc[11]));
    }
    __m256 sum = acc[0];
    for (int i = 1; i < CHAINS; i++) sum = _mm256_add_ps(sum, acc[i]);
    float lanes[8];
    _mm256_storeu_ps(lanes, sum);
    volatile float sink = lanes[0];
    (void)sink;
    return iterations * CHAINS * 8 * 2;
}

uint64_t lockstep_fma_loop(uint64_t iterations, lockstep_fma_width width) {
    switch (width) {
    case lockstep_fma_avx512: return loop512(iterations);
    case lockstep_fma_avx2: return loop256(iterations);
    default: return 0;
    }
}
