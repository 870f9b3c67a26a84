/* shellsplit: splits a command string into argv with POSIX shell word rules (the reference uses
 * Python's shlex.split): blanks separate words; single quotes keep everything literally; double
 * quotes keep everything except that a backslash escapes \ " $ ` and newline; a backslash outside
 * quotes escapes the next character. No expansion, no operators, no comments. Pure. */
#ifndef BW_SHELLSPLIT_H
#define BW_SHELLSPLIT_H

#include <stddef.h>

#include "lib/arena.h"

/* Splits s into *argv (arena; NULL-terminated) and *argc. Returns NULL on success, else a static
 * message ("No closing quotation", "No escaped character", "out of memory"). */
const char *bw_shell_split(const char *s, struct bw_arena *a, char ***argv, size_t *argc);

#endif
