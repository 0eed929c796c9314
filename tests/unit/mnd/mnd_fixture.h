/* What the mnd unit tests share (test_conf.c, test_l2tp.c, test_sip.c): an mnd.yaml text loaded
 * through the schema (mnd/conf.c) and a search of its errors. */
#ifndef TEST_MND_FIXTURE_H
#define TEST_MND_FIXTURE_H
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../../../mnd/mnd.h"

#define MND_FIXTURE_UNUSED __attribute__((unused))

/* Loads text (file name "t.yaml") into *c; e collects the errors.  Returns as conf_load_string. */
static MND_FIXTURE_UNUSED int load(const char *text, struct mnd_conf *c, struct conf_errors *e)
{
	memset(c, 0, sizeof(*c));
	conf_errors_init(e);
	return conf_load_string("t.yaml", text, &mnd_conf_schema, c, e);
}

/* load() that must succeed: the errors are printed before the test fails. */
static MND_FIXTURE_UNUSED void load_ok(const char *text, struct mnd_conf *c, struct conf_errors *e)
{
	int r = load(text, c, e);
	if (r != 0)
		conf_errors_print(e, stderr);
	cr_assert_eq(r, 0, "%s", text);
}

/* Frees what load() filled. */
static MND_FIXTURE_UNUSED void unload(struct mnd_conf *c, struct conf_errors *e)
{
	mnd_conf_free(c);
	conf_errors_free(e);
}

/* true when one of the errors contains needle. */
static MND_FIXTURE_UNUSED bool has_error(const struct conf_errors *e, const char *needle)
{
	for (size_t i = 0; i < e->count; i++)
		if (strstr(e->v[i].text, needle))
			return true;
	return false;
}

#endif
