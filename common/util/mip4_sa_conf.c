/* Uniqueness checks on the SA lists of agent configs (roam/mip4_sa_conf.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "roam/addr.h"
#include "roam/mip4_sa_conf.h"

static const void *member(const void *base, size_t i, size_t size, size_t off)
{
	return (const unsigned char *)base + i * size + off;
}

static bool u32_eq(const void *a, const void *b)
{
	uint32_t x, y;
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return x == y;
}

static bool addr_eq(const void *a, const void *b)
{
	return roam_ipaddr_eq(a, b);
}

static bool find_dup(const void *base, size_t n, size_t size, size_t off,
		     bool (*eq)(const void *, const void *), size_t *first, size_t *second)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (eq(member(base, i, size, off), member(base, j, size, off))) {
				*first = j;
				*second = i;
				return true;
			}
	return false;
}

int mip4_sa_conf_unique_spi(const void *base, size_t n, size_t size, size_t off, const char *list,
			    const char *again, const char **key, char *msg, size_t msglen)
{
	size_t i, j;
	if (!find_dup(base, n, size, off, u32_eq, &i, &j))
		return 0;
	uint32_t spi;
	memcpy(&spi, member(base, i, size, off), sizeof(spi));
	*key = list;
	snprintf(msg, msglen, "spi %u used by %s[%zu] and %s[%zu]", spi, list, i, again, j);
	return -1;
}

int mip4_sa_conf_unique_addr(const void *base, size_t n, size_t size, size_t off,
			     const char *list, const char *what, const char **key, char *msg,
			     size_t msglen)
{
	size_t i, j;
	if (!find_dup(base, n, size, off, addr_eq, &i, &j))
		return 0;
	*key = list;
	snprintf(msg, msglen, "%s[%zu] and [%zu] have the same %s", list, i, j, what);
	return -1;
}
