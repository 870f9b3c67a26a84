/* shm: see shm.h. */
#include "config.h"

#include <string.h>
#include <sys/mman.h>

#include "lib/shm.h"

struct bw_shared *bw_shared_create(void)
{
	void *p = mmap(NULL, sizeof(struct bw_shared), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, sizeof(struct bw_shared));
	return p;
}

void bw_shared_destroy(struct bw_shared *sh)
{
	if (sh != NULL)
		munmap(sh, sizeof(*sh));
}

void bw_atomic_max_u64(_Atomic uint64_t *p, uint64_t v)
{
	uint64_t cur = atomic_load(p);
	while (cur < v && !atomic_compare_exchange_weak(p, &cur, v))
		;
}
