/* Unit tests for lib/arena: alignment, chunk growth, large blocks, strings, deferred cleanups. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "lib/arena.h"
#include "tests/unit/tap.h"

/* Records the order in which deferred callbacks run. */
static char order[32];
static size_t order_len;

static void record(void *p)
{
	if (order_len < sizeof(order) - 1)
		order[order_len++] = *(const char *)p;
	order[order_len] = '\0';
}

static void order_clear(void)
{
	order_len = 0;
	order[0] = '\0';
}

static int aligned16(const void *p)
{
	return ((uintptr_t)p % 16) == 0;
}

static void test_alignment(void)
{
	struct bw_arena *a = bw_arena_new(1024);
	ok(a != NULL, "arena created");
	size_t sizes[] = {1, 3, 7, 15, 16, 17, 31, 33, 100, 1};
	int all = 1, distinct = 1;
	char *prev = NULL;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *p = bw_arena_alloc(a, sizes[i]);
		if (p == NULL || !aligned16(p))
			all = 0;
		if (p != NULL) {
			memset(p, 0xab, sizes[i]);
			if (prev != NULL && p == prev)
				distinct = 0;
		}
		prev = p;
	}
	ok(all, "every allocation of an odd size is 16-byte aligned");
	ok(distinct, "consecutive allocations are distinct");
	void *z = bw_arena_alloc(a, 0);
	ok(z != NULL && aligned16(z), "a zero-byte allocation returns an aligned pointer");
	void *z2 = bw_arena_alloc(a, 0);
	ok(z2 != NULL && z2 != z, "two zero-byte allocations are distinct");
	bw_arena_free(a);
}

static void test_many_chunks(void)
{
	struct bw_arena *a = bw_arena_new(1024);
	size_t fp0 = bw_arena_footprint(a);
	ok(fp0 >= 1024, "footprint holds the first chunk (%zu)", fp0);
	unsigned char *ptrs[500];
	int aligned = 1;
	for (size_t i = 0; i < 500; i++) {
		ptrs[i] = bw_arena_alloc(a, 40);
		if (ptrs[i] == NULL || !aligned16(ptrs[i]))
			aligned = 0;
		else
			memset(ptrs[i], (int)(i & 0xff), 40);
	}
	ok(aligned, "500 allocations across chunks are all aligned");
	int intact = 1;
	for (size_t i = 0; i < 500 && aligned; i++)
		for (size_t k = 0; k < 40; k++)
			if (ptrs[i][k] != (unsigned char)(i & 0xff))
				intact = 0;
	ok(intact, "no allocation overlaps another (contents intact)");
	ok(bw_arena_footprint(a) > fp0 * 10, "the arena grew to more chunks (%zu bytes)",
	   bw_arena_footprint(a));
	bw_arena_reset(a);
	is_int(bw_arena_footprint(a), fp0, "reset keeps only the first chunk");
	bw_arena_free(a);
}

static void test_large(void)
{
	struct bw_arena *a = bw_arena_new(1024);
	size_t fp0 = bw_arena_footprint(a);
	char *small = bw_arena_strdup(a, "before");
	unsigned char *big = bw_arena_alloc(a, 100000);
	ok(big != NULL && aligned16(big), "a 100000-byte allocation (chunk 1024) succeeds aligned");
	if (big != NULL) {
		memset(big, 0x5a, 100000);
		ok(big[0] == 0x5a && big[99999] == 0x5a, "the whole large block is writable");
	} else {
		ok(0, "the whole large block is writable");
	}
	ok(bw_arena_footprint(a) >= fp0 + 100000, "footprint includes the large block");
	char *after = bw_arena_strdup(a, "after");
	is_str(small, "before", "an earlier allocation survives the large one");
	is_str(after, "after", "allocation after the large block works");
	unsigned char *z = bw_arena_zalloc(a, 5000);
	int zero = z != NULL;
	for (size_t i = 0; zero && i < 5000; i++)
		zero = z[i] == 0;
	ok(zero, "zalloc returns zeroed memory");
	bw_arena_reset(a);
	is_int(bw_arena_footprint(a), fp0, "reset frees the large chunk");
	bw_arena_free(a);
}

static void test_strings(void)
{
	struct bw_arena *a = bw_arena_new(0); /* raised to the minimum chunk size */
	ok(a != NULL, "arena with chunk size 0 is created");
	is_str(bw_arena_strdup(a, "hello"), "hello", "strdup copies");
	is_str(bw_arena_strdup(a, ""), "", "strdup of the empty string");
	is_str(bw_arena_strndup(a, "hello world", 5), "hello", "strndup stops at n");
	is_str(bw_arena_printf(a, "%s-%d-%05.1f", "x", 42, 3.14159), "x-42-003.1",
	       "printf formats");
	char *longer = bw_arena_printf(a, "%3000s|", "end");
	ok(longer != NULL && strlen(longer) == 3001 && strcmp(longer + 2997, "end|") == 0,
	   "printf output larger than the chunk");
	const char *src = "source";
	char *copy = bw_arena_strdup(a, src);
	ok(copy != src, "strdup returns a new buffer");
	bw_arena_free(a);
}

static void test_defer(void)
{
	static char tags[] = "ABCD";
	struct bw_arena *a = bw_arena_new(1024);
	order_clear();
	is_int(bw_arena_defer(a, record, &tags[0]), 0, "defer A");
	is_int(bw_arena_defer(a, record, &tags[1]), 0, "defer B");
	is_int(bw_arena_defer(a, record, &tags[2]), 0, "defer C");
	is_str(order, "", "nothing runs before the reset");
	bw_arena_reset(a);
	is_str(order, "CBA", "reset runs cleanups last-registered first");
	bw_arena_reset(a);
	is_str(order, "CBA", "a second reset does not run them again");

	/* The arena keeps working after a reset. */
	char *s = bw_arena_strdup(a, "again");
	is_str(s, "again", "allocation after reset");
	for (int i = 0; i < 200; i++)
		bw_arena_alloc(a, 64); /* spill into more chunks */
	order_clear();
	bw_arena_defer(a, record, &tags[0]);
	bw_arena_defer(a, record, &tags[3]);
	bw_arena_reset(a);
	is_str(order, "DA", "cleanups registered after a reset run on the next reset");

	order_clear();
	bw_arena_defer(a, record, &tags[1]);
	bw_arena_defer(a, record, &tags[2]);
	bw_arena_defer(a, record, &tags[3]);
	bw_arena_free(a);
	is_str(order, "DCB", "free runs cleanups in reverse order");
	bw_arena_free(NULL);
	ok(1, "bw_arena_free(NULL) is a no-op");
}

int main(void)
{
	plan(34);
	test_alignment();
	test_many_chunks();
	test_large();
	test_strings();
	test_defer();
	return done();
}
