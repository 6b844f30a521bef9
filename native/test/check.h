// The one check macro of the CPU-only C++ tests: a failed check prints where and what, and
// counts; main() returns non-zero when any failed.
#pragma once
#include <cstdio>

inline int failures = 0;
#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);          \
      ++failures;                                                          \
    }                                                                      \
  } while (0)

// main()'s return: 0 when every check passed, else 1 (after saying how many failed).
inline int checksResult() {
  if (failures) std::printf("%d checks failed\n", failures);
  return failures ? 1 : 0;
}
