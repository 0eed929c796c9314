/* Digest authentication (sipd/digest.c): responses against published vectors, credentials
 * parsing, stateless nonces and their expiry.  The expected values are RFC 2617 3.5 (MD5) and
 * RFC 7616 3.9.1 (SHA-256, the algorithm RFC 8760 brings to SIP); both were recomputed
 * independently with Python's hashlib before being written here. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../../sipd/sipd.h"

Test(digest, rfc2617_md5_vector)
{
	char ha1[65], resp[65];
	cr_assert_eq(sipd_digest_hex(SIPD_ALG_MD5, "Mufasa:testrealm@host.com:Circle Of Life",
				     strlen("Mufasa:testrealm@host.com:Circle Of Life"), ha1), 0);
	cr_assert_str_eq(ha1, "939e7578ed9e3c518a452acee763bce9");
	cr_assert_eq(sipd_digest_response(SIPD_ALG_MD5, ha1, "dcd98b7102dd2f0e8b11d0f600bfb0c093",
					  "00000001", "0a4f113b", "auth", "GET", "/dir/index.html",
					  resp), 0);
	cr_assert_str_eq(resp, "6629fae49393a05397450978507c4ef1");
}

Test(digest, rfc7616_sha256_vector)
{
	char ha1[65], resp[65];
	const char *a1 = "Mufasa:http-auth@example.org:Circle of Life";
	cr_assert_eq(sipd_digest_hex(SIPD_ALG_SHA256, a1, strlen(a1), ha1), 0);
	cr_assert_str_eq(ha1, "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232");
	cr_assert_eq(sipd_digest_response(SIPD_ALG_SHA256, ha1,
					  "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "00000001",
					  "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "auth",
					  "GET", "/dir/index.html", resp), 0);
	cr_assert_str_eq(resp, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

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
	cr_assert_eq(sipd_cred_ha1(a, SIPD_ALG_MD5, "roam.example", ha1), 0);
	/* hashlib: md5("alice:roam.example:secret1") */
	cr_assert_str_eq(ha1, "b7a0e2f50df4757e5d661accd10162fc");
	cr_assert_eq(sipd_cred_ha1(a, SIPD_ALG_SHA256, "roam.example", ha1), 0);
	cr_assert_str_eq(ha1, "43b50e04b00aab948f875306f3e4defd3c33719e4fc6c413626c675025cbac30");
	struct sipd_cred *b = sipd_creds_find(&cs, "bob", "roam.example");
	cr_assert_not_null(b);
	cr_assert_eq(sipd_cred_ha1(b, SIPD_ALG_MD5, "roam.example", ha1), 0);
	cr_assert_str_eq(ha1, "b7a0e2f50df4757e5d661accd10162fc");
	cr_assert_eq(sipd_cred_ha1(b, SIPD_ALG_SHA256, "roam.example", ha1), -ENOENT);
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
