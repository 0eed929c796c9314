/* had's agent advertisement (adv.c, RFC 5944 2.1): decodes with the codec, carries the home
 * agent's address, H (and T when reverse tunnelling is on), code 16, the configured lifetimes. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../../ha/had.h"

static void load(struct had *h, const char *extra)
{
	char text[512];
	snprintf(text, sizeof(text),
		 "address: 192.0.2.1\nmax_lifetime: 900s\nadvert: {enabled: true, interface: lo, "
		 "lifetime: 9s}\n%smobiles:\n  - spi: 1000\n    key: 0011\n    home: [192.0.2.10]\n",
		 extra);
	memset(h, 0, sizeof(*h));
	cr_assert_eq(had_conf_load_string(&h->conf, text, NULL, 0), 0);
}

Test(adv, advertisement_decodes)
{
	struct had h;
	load(&h, "");
	h.adv.seq = 7;
	uint8_t buf[128];
	struct wbuf w;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(had_adv_build(&h, &w), 0);
	struct mip4_adv a;
	cr_assert_eq(mip4_adv_decode(buf, w.len, &a), 0);
	cr_assert_eq(a.code, MIP4_ADV_CODE_MOBILE_ONLY);
	cr_assert_eq(a.lifetime, 9);
	cr_assert_eq(a.n_routers, 1);
	cr_assert_eq(a.routers[0].addr.s_addr, h.conf.address.v4.s_addr);
	cr_assert(a.has_ma);
	cr_assert_eq(a.seq, 7);
	cr_assert_eq(a.reg_lifetime, 900);
	cr_assert_eq(a.flags, MIP4_MA_H | MIP4_MA_T);
	cr_assert_eq(a.n_coa, 0);
	had_conf_free(&h.conf);
}

Test(adv, no_t_flag_without_reverse_tunnelling)
{
	struct had h;
	load(&h, "reverse_tunnel: off\n");
	uint8_t buf[128];
	struct wbuf w;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	cr_assert_eq(had_adv_build(&h, &w), 0);
	struct mip4_adv a;
	cr_assert_eq(mip4_adv_decode(buf, w.len, &a), 0);
	cr_assert_eq(a.flags, MIP4_MA_H);
	had_conf_free(&h.conf);
}
