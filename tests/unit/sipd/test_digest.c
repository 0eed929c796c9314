/* sipd's side of digest authentication (sipd/digest.c): credentials parsing and the HA1 of a
 * credential, stateless nonces and their expiry.  The hash computations are libroam's
 * (roam/sip_ua.h; RFC 2617 and RFC 7616 vectors in tests/unit/common/test_sip_ua.c); the HA1
 * values here were recomputed independently with Python's hashlib. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../../sipd/sipd.h"

Test(digest, credentials_password_and_ha1)
{
	struct sipd_creds cs;
	char err[200];
	const char *text = "# users\n\nalice roam.example password=secret1\r\n"
			   "bob roam.example ha1-md5=B7A0E2F50DF4757E5D661ACCD10162FC\n";
	cr_assert_eq(sipd_creds_parse(&cs, text, strlen(text), err, sizeof(err)), 0, "%s", err);
	struct sipd_cred *a = sipd_creds_find(&cs, "alice", "roam.example");
	cr_assert_not_null(a);
	char ha1[65];
	cr_assert_eq(sipd_cred_ha1(a, SIP_DIGEST_MD5, "roam.example", ha1), 0);
	/* hashlib: md5("alice:roam.example:secret1") */
	cr_assert_str_eq(ha1, "b7a0e2f50df4757e5d661accd10162fc");
	cr_assert_eq(sipd_cred_ha1(a, SIP_DIGEST_SHA256, "roam.example", ha1), 0);
	cr_assert_str_eq(ha1, "43b50e04b00aab948f875306f3e4defd3c33719e4fc6c413626c675025cbac30");
	struct sipd_cred *b = sipd_creds_find(&cs, "bob", "roam.example");
	cr_assert_not_null(b);
	cr_assert_eq(sipd_cred_ha1(b, SIP_DIGEST_MD5, "roam.example", ha1), 0);
	cr_assert_str_eq(ha1, "b7a0e2f50df4757e5d661accd10162fc");
	cr_assert_eq(sipd_cred_ha1(b, SIP_DIGEST_SHA256, "roam.example", ha1), -ENOENT);
	cr_assert_null(sipd_creds_find(&cs, "alice", "other"));
	cr_assert_null(sipd_creds_find(&cs, "carol", "roam.example"));
	sipd_creds_free(&cs);
}

Test(digest, credentials_errors_name_the_line)
{
	struct sipd_creds cs;
	char err[200];
	const char *bad[] = { "alice\n", "alice r\n", "alice r ha1-md5=xyz\n",
			      "a r password=x\na r password=y\n", "a r colour=blue\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		cr_assert_eq(sipd_creds_parse(&cs, bad[i], strlen(bad[i]), err, sizeof(err)), -EINVAL,
			     "row %zu", i);
		cr_assert(strstr(err, "line") != NULL, "row %zu: %s", i, err);
	}
}

Test(digest, nonce_valid_stale_forged)
{
	struct sipd_digest d, other;
	char n[SIPD_NONCE_HEX + 1];
	cr_assert_eq(sipd_digest_init(&d), 0);
	cr_assert_eq(sipd_digest_init(&other), 0);
	sipd_nonce_make(&d, "r", 5000000, n);
	cr_assert_eq(strlen(n), SIPD_NONCE_HEX);
	cr_assert_eq(sipd_nonce_check(&d, "r", n, 5000000, 300000), 0);
	cr_assert_eq(sipd_nonce_check(&d, "r", n, 5300000, 300000), 0);
	cr_assert_eq(sipd_nonce_check(&d, "r", n, 5300001, 300000), -ESTALE);
	cr_assert_eq(sipd_nonce_check(&d, "other-realm", n, 5000000, 300000), -EBADMSG);
	cr_assert_eq(sipd_nonce_check(&other, "r", n, 5000000, 300000), -EBADMSG);
	n[SIPD_NONCE_HEX - 1] ^= 1; /* one bit of the MAC */
	cr_assert_eq(sipd_nonce_check(&d, "r", n, 5000000, 300000), -EBADMSG);
	cr_assert_eq(sipd_nonce_check(&d, "r", "zz", 5000000, 300000), -EBADMSG);
	cr_assert_eq(sipd_nonce_check(&d, "r", "", 5000000, 300000), -EBADMSG);
	sipd_digest_destroy(&d);
	sipd_digest_destroy(&other);
}
