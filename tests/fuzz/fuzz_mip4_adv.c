/* Agent Advertisement / Solicitation (roam/mip4.h): mip4_adv_decode and mip4_sol_decode on an
 * ICMP message.  A decoded advertisement is re-encoded (mip4_adv_encode must accept it and
 * compute a valid checksum), decoded again to the same content, and encoded again to the same
 * bytes; a decoded solicitation must equal mip4_sol_encode's output in its first 8 bytes
 * except the reserved word and checksum.  The ICMP checksum would stop the fuzzer at the first
 * check, so every input is run twice: as received, and with its checksum fixed up. */
#include <errno.h>

#include "fuzz.h"
#include "roam/ip.h"
#include "roam/mip4.h"

static void same_adv(const struct mip4_adv *a, const struct mip4_adv *b)
{
	FUZZ_CHECK(a->code == b->code && a->lifetime == b->lifetime &&
	           a->n_routers == b->n_routers && a->has_ma == b->has_ma &&
	           a->n_prefix == b->n_prefix, "advertisement header changed");
	for (unsigned i = 0; i < a->n_routers; i++)
		FUZZ_CHECK(a->routers[i].addr.s_addr == b->routers[i].addr.s_addr &&
		           a->routers[i].pref == b->routers[i].pref, "router %u changed", i);
	if (a->has_ma) {
		FUZZ_CHECK(a->seq == b->seq && a->reg_lifetime == b->reg_lifetime &&
		           ((a->flags ^ b->flags) & ~MIP4_MA_RESERVED) == 0 && a->n_coa == b->n_coa,
		           "MA extension changed"); /* reserved bits: kept on decode, sent 0 */
		for (unsigned i = 0; i < a->n_coa; i++)
			FUZZ_CHECK(a->coa[i].s_addr == b->coa[i].s_addr, "coa %u changed", i);
	}
	for (unsigned i = 0; i < a->n_prefix; i++)
		FUZZ_CHECK(a->prefix_len[i] == b->prefix_len[i], "prefix length %u changed", i);
}

static void one(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	one(data, size);
	if (size >= 4 && size <= 4096) {
		uint8_t *b = malloc(size);
		if (!b)
			abort();
		memcpy(b, data, size);
		b[2] = b[3] = 0;
		uint16_t ck = roam_icmp4_cksum(b, size);
		b[2] = (uint8_t)(ck >> 8);
		b[3] = (uint8_t)ck;
		one(b, size);
		free(b);
	}
	return 0;
}

static void one(const uint8_t *data, size_t size)
{
	struct mip4_adv a, a2;
	struct wbuf w1, w2;
	int rc;

	rc = mip4_sol_decode(data, size);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -EPROTONOSUPPORT, "sol decode: %d", rc);
	if (rc == 0) {
		uint8_t o[16];
		wbuf_init_fixed(&w1, o, sizeof(o));
		FUZZ_CHECK(mip4_sol_encode(&w1) == 0, "sol encode");
		FUZZ_CHECK(mip4_sol_decode(o, w1.len) == 0, "encoded solicitation does not decode");
		FUZZ_CHECK(data[0] == o[0] && data[1] == o[1], "solicitation type/code differ");
	}

	memset(&a, 0, sizeof(a));
	rc = mip4_adv_decode(data, size, &a);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -ENOTSUP || rc == -EPROTONOSUPPORT,
	           "adv decode: %d", rc);
	if (rc != 0)
		return;
	FUZZ_CHECK(a.n_routers <= MIP4_ADV_MAX_ROUTERS && a.n_coa <= MIP4_ADV_MAX_COA &&
	           a.n_prefix <= MIP4_ADV_MAX_ROUTERS, "counts out of range");
	wbuf_init(&w1);
	rc = mip4_adv_encode(&w1, &a);
	FUZZ_CHECK(rc == 0, "mip4_adv_encode of a decoded advertisement: %d", rc);
	memset(&a2, 0, sizeof(a2));
	rc = mip4_adv_decode(w1.buf, w1.len, &a2);
	FUZZ_CHECK(rc == 0, "re-encoded advertisement does not decode: %d", rc);
	same_adv(&a, &a2);
	wbuf_init(&w2);
	FUZZ_CHECK(mip4_adv_encode(&w2, &a2) == 0, "second encode");
	FUZZ_CHECK(fuzz_eq(w1.buf, w1.len, w2.buf, w2.len), "encoding not stable");
	wbuf_free(&w1);
	wbuf_free(&w2);
}
