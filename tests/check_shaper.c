/* check_shaper: budgets honoured exactly per period; every submitted
 * request completes once, in order per client. */
#include <check.h>
#include <stdlib.h>

#include "models/shaper.h"

struct req {
	struct shaper_item it;
	int client, seq;
};

struct log {
	int n;
	int client[100000];
	int seq[100000];
};

static void rel(void *ctx, int client, struct shaper_item *it)
{
	struct log *l = ctx;
	struct req *r = (struct req *)it;
	ck_assert_int_eq(r->client, client);
	l->client[l->n] = client;
	l->seq[l->n] = r->seq;
	l->n++;
}

START_TEST(test_unlimited_passes)
{
	struct shaper s;
	ck_assert_int_eq(shaper_init(&s, 2), 0);
	struct req r = {.client = 0};
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(shaper_submit(&s, 0, &r.it), 1);
	ck_assert_uint_eq(s.c[0].passed, 1000);
	shaper_destroy(&s);
}
END_TEST

START_TEST(test_budget_exact_per_period)
{
	static const double budgets[] = {1, 3, 10, 100, 2.5, 0.5};
	for (size_t b = 0; b < sizeof budgets / sizeof budgets[0]; b++) {
		struct shaper s;
		ck_assert_int_eq(shaper_init(&s, 1), 0);
		shaper_limit(&s, 0, budgets[b]);
		struct log *l = calloc(1, sizeof *l);
		struct req *rs = calloc(2000, sizeof *rs);
		int passed_now = 0;
		for (int i = 0; i < 2000; i++) {
			rs[i].client = 0;
			rs[i].seq = i;
			if (shaper_submit(&s, 0, &rs[i].it))
				rel(l, 0, &rs[i].it), passed_now++;
		}
		ck_assert_int_eq(passed_now, (int)budgets[b]);
		/* over 10 periods exactly floor(budget * periods) more */
		for (int p = 1; p <= 10; p++) {
			shaper_refresh(&s, rel, l);
			int expect = (int)(budgets[b] * (p + 1) + 1e-9);
			ck_assert_msg(l->n == expect, "budget %g period %d: %d released, want %d",
				      budgets[b], p, l->n, expect);
		}
		for (int i = 0; i < l->n; i++)
			ck_assert_int_eq(l->seq[i], i); /* in order */
		free(l);
		free(rs);
		shaper_destroy(&s);
	}
}
END_TEST

START_TEST(test_every_request_once_in_order)
{
	struct shaper s;
	ck_assert_int_eq(shaper_init(&s, 3), 0);
	shaper_limit(&s, 0, 7);
	shaper_limit(&s, 2, 3);
	struct log *l = calloc(1, sizeof *l);
	struct req *rs = calloc(3000, sizeof *rs);
	uint64_t x = 12345;
	int next_seq[3] = {0, 0, 0};
	for (int i = 0; i < 3000; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		int c = (int)(x % 3);
		rs[i].client = c;
		rs[i].seq = next_seq[c]++;
		if (shaper_submit(&s, c, &rs[i].it))
			rel(l, c, &rs[i].it);
		if (i % 50 == 49)
			shaper_refresh(&s, rel, l);
	}
	while (s.c[0].queued || s.c[2].queued)
		shaper_refresh(&s, rel, l);
	ck_assert_int_eq(l->n, 3000);
	int last[3] = {-1, -1, -1};
	for (int i = 0; i < l->n; i++) {
		ck_assert_int_eq(l->seq[i], last[l->client[i]] + 1);
		last[l->client[i]] = l->seq[i];
	}
	free(l);
	free(rs);
	shaper_destroy(&s);
}
END_TEST

START_TEST(test_budget_change_next_period)
{
	struct shaper s;
	ck_assert_int_eq(shaper_init(&s, 1), 0);
	shaper_limit(&s, 0, 5);
	struct log *l = calloc(1, sizeof *l);
	struct req rs[100];
	for (int i = 0; i < 100; i++) {
		rs[i].client = 0;
		rs[i].seq = i;
		if (shaper_submit(&s, 0, &rs[i].it))
			rel(l, 0, &rs[i].it);
	}
	ck_assert_int_eq(l->n, 5);
	shaper_set_budget(&s, 0, 20);
	ck_assert_int_eq(l->n, 5); /* not before the refresh */
	shaper_refresh(&s, rel, l);
	ck_assert_int_eq(l->n, 25);
	free(l);
	shaper_destroy(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shaper");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_unlimited_passes);
	tcase_add_test(tc, test_budget_exact_per_period);
	tcase_add_test(tc, test_every_request_once_in_order);
	tcase_add_test(tc, test_budget_change_next_period);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int f = srunner_ntests_failed(sr);
	srunner_free(sr);
	return f ? 1 : 0;
}
