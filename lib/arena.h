/* arena: request-scoped bump allocator with cleanup hooks. Everything a request allocates comes
 * from its arena and is released in one place (bw_arena_reset / bw_arena_free), including
 * non-arena objects registered with bw_arena_defer (json-c objects, statement handles...). */
#ifndef BW_ARENA_H
#define BW_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct bw_arena;

/* Returns a new arena (caller frees with bw_arena_free), or NULL when out of memory. */
struct bw_arena *bw_arena_new(size_t chunk_size);
/* Runs the deferred cleanups (last registered first) and frees all memory. NULL-safe. */
void bw_arena_free(struct bw_arena *a);
/* Runs the cleanups and forgets all allocations, keeping the first chunk for reuse. */
void bw_arena_reset(struct bw_arena *a);

/* Allocation functions return memory owned by the arena, or NULL when out of memory.
 * Memory is 16-byte aligned; bw_arena_zalloc zeroes it. */
void *bw_arena_alloc(struct bw_arena *a, size_t n);
void *bw_arena_zalloc(struct bw_arena *a, size_t n);
char *bw_arena_strdup(struct bw_arena *a, const char *s);
char *bw_arena_strndup(struct bw_arena *a, const char *s, size_t n);
char *bw_arena_printf(struct bw_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *bw_arena_vprintf(struct bw_arena *a, const char *fmt, va_list ap);

/* Registers fn(ptr) to run when the arena is reset or freed. Returns 0, or -1 when out of
 * memory (then fn(ptr) has already been called, so the caller never leaks ptr). */
int bw_arena_defer(struct bw_arena *a, void (*fn)(void *), void *ptr);

/* Bytes currently held from the system (for benchmarks and tests). */
size_t bw_arena_footprint(const struct bw_arena *a);

#endif
