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
#endif
