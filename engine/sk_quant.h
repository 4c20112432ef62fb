/* sk_quant.h - tensor types as GGUF (llama.cpp's ggml) stores them: plain F32/F16/BF16 and
 * the block-quantized types, their block layout, and dequantization to fp32.
 *
 * A quantized row of n values is n / block_elems blocks of block_bytes each, stored one
 * after the other; GGUF requires every row length to be a multiple of the block size, so
 * a matrix's rows can be dequantized independently. The numeric values of the enum are
 * ggml's own (they are what a GGUF file stores). */
#ifndef SK_QUANT_H
#define SK_QUANT_H

#include "sk_core.h"

typedef enum {
    SK_GGML_F32 = 0,
    SK_GGML_F16 = 1,
    SK_GGML_Q4_0 = 2,
    SK_GGML_Q4_1 = 3,
    SK_GGML_Q5_0 = 6,
    SK_GGML_Q5_1 = 7,
    SK_GGML_Q8_0 = 8,
    SK_GGML_Q8_1 = 9,
    SK_GGML_Q2_K = 10,
    SK_GGML_Q3_K = 11,
    SK_GGML_Q4_K = 12,
    SK_GGML_Q5_K = 13,
    SK_GGML_Q6_K = 14,
    SK_GGML_Q8_K = 15,
    SK_GGML_BF16 = 30,
    SK_GGML_TYPE_COUNT = 42 /* ggml's numbering so far (up to Q1_0 = 41); unknown slots have no name */
} SkGgmlType;

/* Values per block and bytes per block (1 and the element size for F32/F16/BF16), as ggml's
 * sizeof(block_*) says, also for the named types that are not supported; 0 for a type
 * without a known layout (its number is still a valid uint32 in a file). */
size_t sk_ggml_block_elems(uint32_t type);
size_t sk_ggml_block_bytes(uint32_t type);
/* "Q4_K", "F16", ... (gguf-py's spelling of ggml's names); NULL for an unknown type. */
const char *sk_ggml_type_name(uint32_t type);
/* Whether dequantization is implemented for the type (the engine reads it). */
bool sk_ggml_type_supported(uint32_t type);
/* Bytes of a row of n values (n a multiple of the block size), or 0 when n is not, or the
 * type has no known layout. */
size_t sk_ggml_row_bytes(uint32_t type, int64_t n);

/* dst[0..n) = the n values stored in the blocks that start at src (n a multiple of the
 * block size), bit for bit what ggml's dequantize_row_* and gguf-py compute. Returns 0,
 * or -1 for a type that is not supported or a ragged n. */
int sk_dequantize(uint32_t type, const void *src, float *dst, size_t n);

/* Quantizes n values (a multiple of the block size) into dst (sk_ggml_row_bytes(type, n)
 * bytes) for Q8_0, Q4_0, Q4_1 and Q4_K (random models built directly in a quantized type,
 * for benchmarks and tests; Q8_0/Q4_0/Q4_1 byte for byte as ggml's reference quantizer
 * writes them; Q4_K by a simpler min/max quantizer than ggml's, every value within half a
 * step of its sub-block's grid). Returns 0, or -1 for a type without a quantizer or a
 * ragged n. */
int sk_quantize(uint32_t type, const float *src, void *dst, size_t n);

#endif
