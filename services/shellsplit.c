/* shellsplit: see shellsplit.h. */
#include "config.h"

#include <string.h>

#include "services/shellsplit.h"

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Appends word w[0..n) to the growing argv; false when out of memory. */
static int push(struct bw_arena *a, char ***argv, size_t *argc, size_t *cap, const char *w,
		size_t n)
{
	if (*argc + 1 >= *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		char **grown = bw_arena_alloc(a, ncap * sizeof(*grown));
		if (grown == NULL)
			return 0;
		if (*argc > 0)
			memcpy(grown, *argv, *argc * sizeof(*grown));
		*argv = grown;
		*cap = ncap;
	}
	char *copy = bw_arena_strndup(a, w, n);
	if (copy == NULL)
		return 0;
	(*argv)[(*argc)++] = copy;
	(*argv)[*argc] = NULL;
	return 1;
}

const char *bw_shell_split(const char *s, struct bw_arena *a, char ***argv, size_t *argc)
{
	size_t len = strlen(s), cap = 0, n = 0;
	char *word = bw_arena_alloc(a, len + 1);
	int in_word = 0;
	*argv = NULL;
	*argc = 0;
	if (word == NULL)
		return "out of memory";
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (is_blank(c)) {
			if (in_word && !push(a, argv, argc, &cap, word, n))
				return "out of memory";
			in_word = 0;
			n = 0;
			continue;
		}
		in_word = 1;
		if (c == '\\') {
			if (++i >= len)
				return "No escaped character";
			word[n++] = s[i];
		} else if (c == '\'') {
			const char *end = strchr(s + i + 1, '\'');
			if (end == NULL)
				return "No closing quotation";
			size_t k = (size_t)(end - (s + i + 1));
			memcpy(word + n, s + i + 1, k);
			n += k;
			i += k + 1;
		} else if (c == '"') {
			for (i++;; i++) {
				if (i >= len)
					return "No closing quotation";
				if (s[i] == '"')
					break;
				if (s[i] == '\\' && i + 1 < len &&
				    strchr("\\\"$`\n", s[i + 1]) != NULL)
					i++;
				word[n++] = s[i];
			}
		} else {
			word[n++] = c;
		}
	}
	if (in_word && !push(a, argv, argc, &cap, word, n))
		return "out of memory";
	if (*argv == NULL) {
		*argv = bw_arena_zalloc(a, sizeof(**argv));
		if (*argv == NULL)
			return "out of memory";
	}
	return NULL;
}
