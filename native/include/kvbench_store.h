/*
 * kvbench store plugin ABI, version 1.
 *
 * Build your store as a shared library that exports the functions below with C linkage,
 * then benchmark it with `kvbench backend bench --backend plugin:/path/to/libstore.so`.
 * kvbench loads it with dlopen, checks kvbench_store_abi_version() first, and calls the
 * others from several I/O threads at once: they must be thread-safe.
 *
 * Keys are 64-bit; kvbench namespaces them per run by passing `run` to open().
 * Return 0 for success; on failure return non-zero and let kvbench_store_last_error()
 * describe it (per thread or static storage; kvbench copies it at once).
 */
#ifndef KVBENCH_STORE_H
#define KVBENCH_STORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KVBENCH_STORE_ABI_VERSION 1

/* Result of kvbench_store_get. */
#define KVBENCH_STORE_OK 0
#define KVBENCH_STORE_MISSING 1
#define KVBENCH_STORE_ERROR -1

/* Returns KVBENCH_STORE_ABI_VERSION as the plugin was built. */
int kvbench_store_abi_version(void);

/* Opens the store. `config` is the text after "plugin:PATH.so?" (may be empty); `run` a short
 * id unique to this run. Returns an opaque handle, or NULL (then see last_error). */
void* kvbench_store_open(const char* config, const char* run);

/* Stores `bytes` bytes under `key`, replacing any earlier value. */
int kvbench_store_put(void* store, uint64_t key, const void* data, size_t bytes);

/* Copies the value of `key` into `out` (capacity `bytes`): KVBENCH_STORE_OK when it exists and
 * is exactly `bytes` long, KVBENCH_STORE_MISSING when absent, KVBENCH_STORE_ERROR otherwise. */
int kvbench_store_get(void* store, uint64_t key, void* out, size_t bytes);

/* Removes every value this handle stored, then frees the handle. */
void kvbench_store_close(void* store);

/* A description of the last failure on the calling thread. */
const char* kvbench_store_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* KVBENCH_STORE_H */
