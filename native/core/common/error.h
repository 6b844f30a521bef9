// kvbench native core: the one error type every layer throws.
// `code` is a stable machine-readable tag (mapped to exit codes in src/native/load.ts),
// `message` a one-line human explanation.
#pragma once
#include <stdexcept>
#include <string>

namespace kv {

struct Error : std::runtime_error {
  std::string code;
  Error(std::string code_, const std::string& message) : std::runtime_error(message), code(std::move(code_)) {}
};

// Error codes shared with src/native/load.ts.
namespace codes {
inline constexpr const char* kNoCuda = "NO_CUDA";        // addon built without the CUDA toolkit
inline constexpr const char* kCuda = "CUDA_ERROR";       // a CUDA runtime call failed
inline constexpr const char* kNoDevice = "NO_DEVICE";    // asked for a GPU this host does not have
inline constexpr const char* kBadInput = "BAD_INPUT";    // request fields out of range
inline constexpr const char* kVerify = "VERIFY_FAILED";  // copied data did not match
}  // namespace codes

}  // namespace kv
