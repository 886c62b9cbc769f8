#ifndef LOCKSTEP_CDNNL_SHIM_H
#define LOCKSTEP_CDNNL_SHIM_H
// oneDNN's C API (Debian's libdnnl-dev 2.6, which has no pkg-config file). Its handle
// sentinels are macros Swift cannot import, and its CPU runtime is OpenMP (libgomp), whose
// thread count is a per-thread setting: both are exposed here as static inline functions.
#include <oneapi/dnnl/dnnl.h>
#include <dlfcn.h>
#include <stddef.h>

/// A memory object's handle for "no buffer yet" (set per call with dnnl_memory_set_data_handle).
static inline void *lockstep_dnnl_memory_none(void) { return DNNL_MEMORY_NONE; }

/// Asks OpenMP, which runs oneDNN's primitives, for one thread in the calling thread's
/// parallel regions. OpenMP keeps this setting per thread, so every thread that executes a
/// primitive calls it. libgomp comes with libdnnl, so the function is looked up rather than
/// linked. Returns the value omp_get_max_threads() gives afterwards, or -1 without OpenMP.
static inline int lockstep_dnnl_pin_one_thread(void) {
    void (*set)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    int (*get)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "omp_get_max_threads");
    if (set == NULL || get == NULL) return -1;
    set(1);
    return get();
}

/// The implementation a primitive descriptor chose, e.g. "brg:avx512_core".
static inline const char *lockstep_dnnl_impl_name(const_dnnl_primitive_desc_t pd) {
    const char *name = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success || name == NULL) return "?";
    return name;
}

/// A 2-D f32 memory descriptor of rows × cols whose element (i, j) lies at i·rowStride + j·colStride.
static inline dnnl_status_t lockstep_dnnl_matrix_md(dnnl_memory_desc_t *md, int64_t rows, int64_t cols,
                                                    int64_t rowStride, int64_t colStride) {
    dnnl_dims_t dims = {rows, cols};
    dnnl_dims_t strides = {rowStride, colStride};
    return dnnl_memory_desc_init_by_strides(md, 2, dims, dnnl_f32, strides);
}

/// A 4-D f32 memory descriptor of dims {a, b, c, d} with the given strides, in elements.
static inline dnnl_status_t lockstep_dnnl_md4_strides(dnnl_memory_desc_t *md, int64_t a, int64_t b, int64_t c, int64_t d,
                                                      int64_t sa, int64_t sb, int64_t sc, int64_t sd) {
    dnnl_dims_t dims = {a, b, c, d};
    dnnl_dims_t strides = {sa, sb, sc, sd};
    return dnnl_memory_desc_init_by_strides(md, 4, dims, dnnl_f32, strides);
}

/// A 4-D f32 memory descriptor of dims {a, b, c, d} with a format tag (dnnl_format_tag_any
/// lets the primitive choose).
static inline dnnl_status_t lockstep_dnnl_md4_tag(dnnl_memory_desc_t *md, int64_t a, int64_t b, int64_t c, int64_t d,
                                                  dnnl_format_tag_t tag) {
    dnnl_dims_t dims = {a, b, c, d};
    return dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, tag);
}

/// A 1-D f32 memory descriptor of n contiguous elements.
static inline dnnl_status_t lockstep_dnnl_md1(dnnl_memory_desc_t *md, int64_t n) {
    dnnl_dims_t dims = {n};
    return dnnl_memory_desc_init_by_tag(md, 1, dims, dnnl_f32, dnnl_x);
}

/// Square 2-D windows: stride and symmetric padding the same in both spatial dimensions.
static inline dnnl_status_t lockstep_dnnl_convolution_forward(dnnl_convolution_desc_t *desc, const dnnl_memory_desc_t *src,
                                                              const dnnl_memory_desc_t *weights, const dnnl_memory_desc_t *bias,
                                                              const dnnl_memory_desc_t *dst, int64_t stride, int64_t padding) {
    dnnl_dims_t strides = {stride, stride}, pad = {padding, padding};
    return dnnl_convolution_forward_desc_init(desc, dnnl_forward_training, dnnl_convolution_direct, src, weights, bias, dst,
                                              strides, pad, pad);
}

static inline dnnl_status_t lockstep_dnnl_convolution_backward_data(dnnl_convolution_desc_t *desc, const dnnl_memory_desc_t *diff_src,
                                                                    const dnnl_memory_desc_t *weights,
                                                                    const dnnl_memory_desc_t *diff_dst, int64_t stride, int64_t padding) {
    dnnl_dims_t strides = {stride, stride}, pad = {padding, padding};
    return dnnl_convolution_backward_data_desc_init(desc, dnnl_convolution_direct, diff_src, weights, diff_dst, strides, pad, pad);
}

static inline dnnl_status_t lockstep_dnnl_convolution_backward_weights(dnnl_convolution_desc_t *desc, const dnnl_memory_desc_t *src,
                                                                       const dnnl_memory_desc_t *diff_weights,
                                                                       const dnnl_memory_desc_t *diff_bias,
                                                                       const dnnl_memory_desc_t *diff_dst, int64_t stride,
                                                                       int64_t padding) {
    dnnl_dims_t strides = {stride, stride}, pad = {padding, padding};
    return dnnl_convolution_backward_weights_desc_init(desc, dnnl_convolution_direct, src, diff_weights, diff_bias, diff_dst,
                                                       strides, pad, pad);
}

/// Max pooling over square windows; padding on the right/bottom as PyTorch's floor mode gives
/// (the output size decides it).
static inline dnnl_status_t lockstep_dnnl_max_pooling(dnnl_pooling_v2_desc_t *desc, int forward, const dnnl_memory_desc_t *src,
                                                      const dnnl_memory_desc_t *dst, int64_t kernel, int64_t stride,
                                                      int64_t padding, int64_t padding_r_h, int64_t padding_r_w) {
    dnnl_dims_t strides = {stride, stride}, kernels = {kernel, kernel}, dilation = {0, 0};
    dnnl_dims_t pad_l = {padding, padding}, pad_r = {padding_r_h, padding_r_w};
    if (forward) {
        return dnnl_pooling_v2_forward_desc_init(desc, dnnl_forward_training, dnnl_pooling_max, src, dst, strides, kernels,
                                                 dilation, pad_l, pad_r);
    }
    return dnnl_pooling_v2_backward_desc_init(desc, dnnl_pooling_max, src, dst, strides, kernels, dilation, pad_l, pad_r);
}
/// A matmul primitive with its three memory objects (a, b, c), whose buffers are set per call.
typedef struct {
    dnnl_primitive_t primitive;
    dnnl_memory_t a, b, c;
} lockstep_dnnl_matmul;

static inline void lockstep_dnnl_matmul_destroy(lockstep_dnnl_matmul *mm) {
    if (mm->primitive) dnnl_primitive_destroy(mm->primitive);
    if (mm->a) dnnl_memory_destroy(mm->a);
    if (mm->b) dnnl_memory_destroy(mm->b);
    if (mm->c) dnnl_memory_destroy(mm->c);
    mm->primitive = NULL;
    mm->a = mm->b = mm->c = NULL;
}

/// c (m × n, row stride ldc) = alpha · a (m × k) · b (k × n) + beta · c, f32, a and b given by
/// their element strides (a transposed operand is a strided view). alpha is an output scale,
/// beta a sum post-op. On failure nothing is left allocated.
static inline dnnl_status_t lockstep_dnnl_matmul_create(lockstep_dnnl_matmul *mm, dnnl_engine_t engine, int64_t m, int64_t n,
                                                        int64_t k, int64_t aRowStride, int64_t aColStride, int64_t bRowStride,
                                                        int64_t bColStride, int64_t ldc, float alpha, float beta) {
    mm->primitive = NULL;
    mm->a = mm->b = mm->c = NULL;
    dnnl_memory_desc_t a, b, c;
    dnnl_status_t s;
    if ((s = lockstep_dnnl_matrix_md(&a, m, k, aRowStride, aColStride)) != dnnl_success) return s;
    if ((s = lockstep_dnnl_matrix_md(&b, k, n, bRowStride, bColStride)) != dnnl_success) return s;
    if ((s = lockstep_dnnl_matrix_md(&c, m, n, ldc, 1)) != dnnl_success) return s;
    dnnl_matmul_desc_t desc;
    if ((s = dnnl_matmul_desc_init(&desc, &a, &b, NULL, &c)) != dnnl_success) return s;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    dnnl_primitive_desc_t pd = NULL;
    if ((s = dnnl_primitive_attr_create(&attr)) != dnnl_success) return s;
    if (alpha != 1.0f) s = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha);
    if (s == dnnl_success && beta != 0.0f) {
        s = dnnl_post_ops_create(&ops);
        if (s == dnnl_success) s = dnnl_post_ops_append_sum(ops, beta);
        if (s == dnnl_success) s = dnnl_primitive_attr_set_post_ops(attr, ops);
    }
    if (s == dnnl_success) s = dnnl_primitive_desc_create(&pd, &desc, attr, engine, NULL);
    if (s == dnnl_success) s = dnnl_primitive_create(&mm->primitive, pd);
    if (s == dnnl_success) s = dnnl_memory_create(&mm->a, &a, engine, DNNL_MEMORY_NONE);
    if (s == dnnl_success) s = dnnl_memory_create(&mm->b, &b, engine, DNNL_MEMORY_NONE);
    if (s == dnnl_success) s = dnnl_memory_create(&mm->c, &c, engine, DNNL_MEMORY_NONE);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (ops) dnnl_post_ops_destroy(ops);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) lockstep_dnnl_matmul_destroy(mm);
    return s;
}

/// Runs the matmul on these buffers and waits for it.
static inline dnnl_status_t lockstep_dnnl_matmul_execute(const lockstep_dnnl_matmul *mm, dnnl_stream_t stream, const float *a,
                                                         const float *b, float *c) {
    dnnl_status_t s;
    if ((s = dnnl_memory_set_data_handle(mm->a, (void *)a)) != dnnl_success) return s;
    if ((s = dnnl_memory_set_data_handle(mm->b, (void *)b)) != dnnl_success) return s;
    if ((s = dnnl_memory_set_data_handle(mm->c, c)) != dnnl_success) return s;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, mm->a}, {DNNL_ARG_WEIGHTS, mm->b}, {DNNL_ARG_DST, mm->c}};
    if ((s = dnnl_primitive_execute(mm->primitive, stream, 3, args)) != dnnl_success) return s;
    return dnnl_stream_wait(stream);
}
#endif
