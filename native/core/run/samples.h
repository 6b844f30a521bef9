// Small helpers over raw sample vectors, for the few medians that steer a run natively (the
// reported statistics are computed in TypeScript). Plain C++.
#pragma once
#include <algorithm>
#include <cstddef>
#include <vector>

namespace kv {

// Reserves room for `n` samples and touches it: the first write to a fresh page is a page
// fault (a microsecond or more) that would otherwise land inside the hook being timed.
template <typename V>
void presize(V& v, size_t n) {
  v.resize(n);
  v.clear();
}

inline double medianOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Bytes per millisecond of the median timed group; -1 when nothing was timed.
inline double medianRate(const std::vector<double>& ms, const std::vector<double>& bytes) {
  std::vector<double> rates;
  for (size_t i = 0; i < ms.size() && i < bytes.size(); ++i)
    if (ms[i] > 0) rates.push_back(bytes[i] / ms[i]);
  return rates.empty() ? -1.0 : medianOf(rates);
}

}  // namespace kv
