/* SPDX-License-Identifier: MIT */
/*
 * Host unit tests link the user libc's pure code next to the host C
 * library: these renames (forced in with -include when compiling the libc
 * sources for the host, and included by the tests) keep the two apart.
 */
#define memcpy	      u_memcpy
#define memmove	      u_memmove
#define memset	      u_memset
#define memcmp	      u_memcmp
#define memchr	      u_memchr
#define strlen	      u_strlen
#define strnlen	      u_strnlen
#define strcmp	      u_strcmp
#define strncmp	      u_strncmp
#define strcpy	      u_strcpy
#define strncpy	      u_strncpy
#define strlcpy	      u_strlcpy
#define strcat	      u_strcat
#define strchr	      u_strchr
#define strrchr	      u_strrchr
#define strstr	      u_strstr
#define strspn	      u_strspn
#define strcspn	      u_strcspn
#define strdup	      u_strdup
#define strsep_ws     u_strsep_ws
#define strerror      u_strerror
#define malloc	      u_malloc
#define calloc	      u_calloc
#define realloc	      u_realloc
#define free	      u_free
#define malloc_in_use u_malloc_in_use
#define atoi	      u_atoi
#define strtol	      u_strtol
#define strtoul	      u_strtoul
#define strtoll	      u_strtoll
#define strtoull      u_strtoull
#define abs	      u_abs
#define labs	      u_labs
#define qsort	      u_qsort
#define rand	      u_rand
#define srand	      u_srand
#define exit	      u_exit
#define abort	      u_abort
