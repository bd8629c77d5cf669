// OPTICORE_VECTOR_CLONES before a function compiles it twice, for the baseline instruction set and
// for AVX2, and picks one at load time for the CPU it runs on (GCC / Clang function multi-
// versioning through an ifunc; elsewhere a plain function). Only for loops the compiler
// vectorises: the two versions compute the same IEEE operations in the same order (no FMA
// contraction: FMA is not enabled), so results are identical on every CPU.
#pragma once

#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(OPTICORE_NO_VECTOR_CLONES)
#define OPTICORE_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define OPTICORE_VECTOR_CLONES
#endif
