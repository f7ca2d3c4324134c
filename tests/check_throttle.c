/*
 * check_throttle: tests of models/throttle.c (the disk throttle controllers).
 *
 * Hand-computed sequences for every branch of the paper's rule and of the
 * PI law; closed-loop runs on a plant model of the shaper and the disk;
 * the paper's limit cycle at small budgets, pinned; configuration checks;
 * the registry.
 *
 * Set THROTTLE_REPORT=1 to print the measured settling times and limit
 * cycles (the numbers quoted in throttle.c and docs/MODELS-throttle.md).
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jv_err.h"
#include "models/throttle.h"

#define TOL 1e-9
#define PERIOD_S 0.2 /* the disk manager's default period */

static int report(void)
{
	const char *v = getenv("THROTTLE_REPORT");
	return v && *v && strcmp(v, "0") != 0;
}

static void mk(struct throttle *c, const struct throttle_ops *ops,
	       double t_init, double t_min, double t_max)
{
	struct throttle_cfg g;
	throttle_cfg_default(&g);
	g.t_init = t_init;
	g.t_min = t_min;
	g.t_max = t_max;
	memset(c, 0xa5, sizeof *c); /* init must set every field */
	ck_assert_int_eq(throttle_init(c, ops, &g), 0);
	ck_assert_ptr_eq(c->ops, ops);
	ck_assert_double_eq(c->t, t_init);
	ck_assert_double_eq(c->t_past, t_init);
	ck_assert_double_eq(c->integ, 0.0);
	ck_assert_double_eq(c->e_prev, 0.0);
	ck_assert_uint_eq(c->steps, 0);
}

/* ---- the paper's rule, hand-computed ------------------------------- */

#define SEQ_MAX 6
#define EL 1.0 /* J; every sequence below uses a limit of 1 J per period */
#define OVER 1.5
#define UNDER 0.5

struct paper_seq {
	const char *name;
	double t_init, t_min, t_max;
	int n;
	double ec[SEQ_MAX];    /* el = EL */
	double t[SEQ_MAX];     /* expected t after each step */
	double t_past[SEQ_MAX]; /* expected tl after each step */
};

/* Δt = 1/4 (tl - t) + sgn if (ec > el and t > tl) or (ec < el and t < tl),
 * else Δt = 4/3 (t - tl) + sgn; t' = clamp(t + Δt); tl' = t. */
static const struct paper_seq paper_seqs[] = {
	{"first step over: t = tl, so dt = sgn = -1", 100, 1, 10000, 1,
	 {OVER}, {99}, {100}},
	{"first step under: dt = sgn = +1", 100, 1, 10000, 1,
	 {UNDER}, {101}, {100}},
	{"first step on the limit: sgn(0) = 0, t stays", 100, 1, 10000, 2,
	 {EL, EL}, {100, 100}, {100, 100}},
	/* over after a raise: 1/4 (100 - 101) - 1 = -1.25 */
	{"damp: ec > el and t > tl", 100, 1, 10000, 2,
	 {UNDER, OVER}, {101, 99.75}, {100, 101}},
	/* under after a cut: 1/4 (100 - 99) + 1 = 1.25 */
	{"damp: ec < el and t < tl", 100, 1, 10000, 2,
	 {OVER, UNDER}, {99, 100.25}, {100, 99}},
	/* under after a raise: 4/3 (101 - 100) + 1 = 7/3; then 4/3 * 7/3 + 1 */
	{"otherwise: ec < el and t > tl (accelerate up)", 100, 1, 10000, 3,
	 {UNDER, UNDER, UNDER}, {101, 101 + 7.0 / 3, 101 + 7.0 / 3 + 37.0 / 9},
	 {100, 101, 101 + 7.0 / 3}},
	/* over after a cut: 4/3 (99 - 100) - 1 = -7/3 */
	{"otherwise: ec > el and t < tl (accelerate down)", 100, 1, 10000, 3,
	 {OVER, OVER, OVER}, {99, 99 - 7.0 / 3, 99 - 7.0 / 3 - 37.0 / 9},
	 {100, 99, 99 - 7.0 / 3}},
	/* on the limit after a raise: sgn = 0 but the momentum goes on: 4/3 */
	{"otherwise with sgn(0) = 0: momentum only", 100, 1, 10000, 2,
	 {UNDER, EL}, {101, 101 + 4.0 / 3}, {100, 101}},
	/* the worked example of throttle.c: -1, -7/3, +(1/4 * 7/3 + 1) */
	{"worked example", 100, 1, 10000, 3,
	 {1.5, 1.4, 0.8}, {99, 99 - 7.0 / 3, 99 - 7.0 / 3 + 19.0 / 12},
	 {100, 99, 99 - 7.0 / 3}},
	/* 101 + 7/3 clamps at 101.5; then 4/3 * 0.5 + 1 clamps; then t = tl:
	 * dt = +1 clamps again */
	{"clamp at t_max", 100, 1, 101.5, 4,
	 {UNDER, UNDER, UNDER, UNDER}, {101, 101.5, 101.5, 101.5},
	 {100, 101, 101.5, 101.5}},
	/* 2 -> 1; 4/3 (1 - 2) - 1 clamps at 1; t = tl, under: +1 */
	{"clamp at t_min", 2, 1, 10000, 3,
	 {OVER, OVER, UNDER}, {1, 1, 2}, {2, 1, 1}},
	/* a factor of 0 blocks the client; it consumes nothing (ec = 0) and
	 * the rule brings it back */
	{"t_min = 0: blocked and back", 1, 0, 10000, 4,
	 {OVER, OVER, 0, 0}, {0, 0, 1, 1 + 7.0 / 3}, {1, 0, 0, 1}},
};
#define N_PAPER_SEQS ((int)(sizeof paper_seqs / sizeof paper_seqs[0]))

START_TEST(test_paper_seq)
{
	const struct paper_seq *q = &paper_seqs[_i];
	struct throttle c;
	mk(&c, &throttle_paper, q->t_init, q->t_min, q->t_max);
	for (int k = 0; k < q->n; k++) {
		double r = c.ops->step(&c, q->ec[k], EL);
		ck_assert_msg(fabs(r - q->t[k]) < TOL, "%s: step %d: t %.12g, want %.12g",
			      q->name, k + 1, r, q->t[k]);
		ck_assert_double_eq(r, c.t);
		ck_assert_msg(fabs(c.t_past - q->t_past[k]) < TOL,
			      "%s: step %d: tl %.12g, want %.12g", q->name, k + 1,
			      c.t_past, q->t_past[k]);
		ck_assert_uint_eq(c.steps, (uint64_t)k + 1);
	}
}
END_TEST

/* A zero limit: any consumption is over it; none is on it (sgn 0). */
START_TEST(test_paper_zero_limit)
{
	struct throttle c;
	mk(&c, &throttle_paper, 100, 1, 10000);
	ck_assert_double_eq_tol(c.ops->step(&c, 0.0, 0.0), 100, TOL);
	ck_assert_double_eq_tol(c.ops->step(&c, 1e-3, 0.0), 99, TOL);
}
END_TEST

/* The paper's gains are configuration: damp 1/2, amp 2. */
START_TEST(test_paper_custom_gains)
{
	struct throttle c;
	struct throttle_cfg g;
	throttle_cfg_default(&g);
	g.gain_damp = 0.5;
	g.gain_amp = 2.0;
	ck_assert_int_eq(throttle_init(&c, &throttle_paper, &g), 0);
	ck_assert_double_eq_tol(c.ops->step(&c, UNDER, EL), 101, TOL);
	ck_assert_double_eq_tol(c.ops->step(&c, UNDER, EL), 104, TOL); /* 2*1 + 1 */
	ck_assert_double_eq_tol(c.ops->step(&c, OVER, EL), 101.5, TOL); /* -3/2 - 1 */
}
END_TEST

/* ---- PI, hand-computed --------------------------------------------- */

START_TEST(test_pi_steps)
{
	struct throttle c;
	mk(&c, &throttle_pi, 100, 1, 10000);
	double kp = THROTTLE_KP_DEFAULT, ki = THROTTLE_KI_DEFAULT;
	/* ec = 2 el: e = ln 1/2; u = kp (e - 0) + ki e */
	double e1 = log(0.5);
	double t1 = 100 * exp((kp + ki) * e1);
	ck_assert_double_eq_tol(c.ops->step(&c, 2.0, 1.0), t1, TOL);
	ck_assert_double_eq_tol(t1, 61.5572206672458, 1e-9); /* 100 * 2^-0.7 */
	ck_assert_double_eq_tol(c.e_prev, e1, TOL);
	ck_assert_double_eq_tol(c.integ, ki * e1, TOL);
	ck_assert_double_eq_tol(c.t_past, 100, TOL);
	/* the plant was ec = 0.02 J * t: e = ln(1 / (0.02 t1)) */
	double ec2 = 0.02 * t1, e2 = log(1.0 / ec2);
	double t2 = t1 * exp(kp * (e2 - e1) + ki * e2);
	ck_assert_double_eq_tol(c.ops->step(&c, ec2, 1.0), t2, TOL);
	ck_assert_double_eq_tol(t2, 57.03819, 1e-4);
	ck_assert_double_eq_tol(c.integ, ki * (e1 + e2), TOL);
	/* on the limit: only the proportional term of the error's change */
	double t3 = t2 * exp(kp * (0 - e2));
	ck_assert_double_eq_tol(c.ops->step(&c, 1.0, 1.0), t3, TOL);
	ck_assert_uint_eq(c.steps, 3);
}
END_TEST

/* No requests (ec = 0): t grows by 1.25 per period, no division by zero,
 * and the error memory is cleared. */
START_TEST(test_pi_idle)
{
	struct throttle c;
	mk(&c, &throttle_pi, 100, 1, 10000);
	c.ops->step(&c, 2.0, 1.0);
	double t1 = 100 * pow(2, -(THROTTLE_KP_DEFAULT + THROTTLE_KI_DEFAULT));
	ck_assert_double_eq_tol(c.ops->step(&c, 0.0, 1.0), t1 * 1.25, TOL);
	ck_assert_double_eq(c.e_prev, 0.0);
	ck_assert_double_eq_tol(c.ops->step(&c, -1e-9, 1.0), t1 * 1.5625, TOL);
	/* no limit and no consumption: nothing to do */
	double t = c.t;
	ck_assert_double_eq_tol(c.ops->step(&c, 0.0, 0.0), t, TOL);
	/* no limit but consumption: the largest error, ec = 16 el; with the
	 * default gains (0.7 ln 16 > ln 4) the step clamp cuts by 4 */
	ck_assert_double_eq_tol(c.ops->step(&c, 1.0, 0.0), t / 4, TOL);
}
END_TEST

static void mk_gains(struct throttle *c, double kp, double ki)
{
	struct throttle_cfg cfg;
	throttle_cfg_default(&cfg);
	cfg.kp = kp;
	cfg.ki = ki;
	ck_assert_int_eq(throttle_init(c, &throttle_pi, &cfg), 0);
}

/* One wild period counts as at most 16x off the limit (error clamp), and
 * moves t by at most a factor of 4 either way (step clamp). */
START_TEST(test_pi_step_clamp)
{
	struct throttle c;
	/* defaults (kp + ki = 0.7): 0.7 ln 16 > ln 4, the step clamp bites */
	mk(&c, &throttle_pi, 100, 1, 10000);
	ck_assert_double_eq_tol(c.ops->step(&c, 1e-6, 1.0), 400, TOL);
	mk(&c, &throttle_pi, 100, 1, 10000);
	ck_assert_double_eq_tol(c.ops->step(&c, 1e6, 1.0), 25, TOL);
	/* 1.5x: inside both clamps */
	mk(&c, &throttle_pi, 100, 1, 10000);
	ck_assert_double_eq_tol(c.ops->step(&c, 1.0, 1.5), 100 * pow(1.5, 0.7), TOL);
	/* kp 0.05, ki 0.3: 0.35 ln 16 < ln 4, the error clamp bites */
	mk_gains(&c, 0.05, 0.3);
	ck_assert_double_eq_tol(c.ops->step(&c, 1e-6, 1.0), 100 * pow(16, 0.35), TOL);
	mk_gains(&c, 0.05, 0.3);
	ck_assert_double_eq_tol(c.ops->step(&c, 1e6, 1.0), 100 * pow(16, -0.35), TOL);
	/* deadbeat gains (kp 0, ki 1): one step to the target, within 4x */
	mk_gains(&c, 0, 1);
	ck_assert_double_eq_tol(c.ops->step(&c, 1e-6, 1.0), 400, TOL);
	ck_assert_double_eq_tol(c.ops->step(&c, 1e6, 1.0), 100, TOL);
	ck_assert_double_eq_tol(c.ops->step(&c, 1.0, 3.0), 300, TOL);
}
END_TEST

/* Clamped at t_max or t_min: t stays at the bound and the integral term is
 * not accumulated (anti-windup); it moves off the bound as soon as the
 * error changes sign. */
START_TEST(test_pi_antiwindup)
{
	struct throttle c;
	mk(&c, &throttle_pi, 100, 1, 150);
	for (int k = 0; k < 5; k++)
		ck_assert_double_eq_tol(c.ops->step(&c, 0.25, 1.0), 150, TOL);
	ck_assert_double_eq(c.integ, 0.0);
	double e = log(1.0 / 2.0);
	ck_assert_double_eq_tol(c.ops->step(&c, 2.0, 1.0),
				150 * exp(THROTTLE_KP_DEFAULT * (e - log(4.0)) + THROTTLE_KI_DEFAULT * e),
				TOL);
	ck_assert_double_eq_tol(c.integ, THROTTLE_KI_DEFAULT * e, TOL);

	mk(&c, &throttle_pi, 2, 1, 150);
	for (int k = 0; k < 5; k++)
		ck_assert_double_eq_tol(c.ops->step(&c, 100.0, 1.0), 1, TOL);
	ck_assert_double_eq(c.integ, 0.0);
	ck_assert_double_gt(c.ops->step(&c, 0.5, 1.0), 1.0);
}
END_TEST

START_TEST(test_nonfinite_inputs)
{
	const struct throttle_ops *ops = throttle_controllers[_i];
	const double bad[] = {NAN, INFINITY, -INFINITY};
	struct throttle c;
	mk(&c, ops, 100, 1, 10000);
	c.ops->step(&c, 0.5, 1.0);
	struct throttle before = c;
	for (int i = 0; i < 3; i++) {
		ck_assert_double_eq(c.ops->step(&c, bad[i], 1.0), before.t);
		ck_assert_double_eq(c.ops->step(&c, 1.0, bad[i]), before.t);
	}
	ck_assert_double_eq(c.t_past, before.t_past);
	ck_assert_uint_eq(c.steps, before.steps);
}
END_TEST

START_TEST(test_reset)
{
	const struct throttle_ops *ops = throttle_controllers[_i];
	struct throttle c;
	mk(&c, ops, 100, 1, 10000);
	for (int k = 0; k < 4; k++)
		c.ops->step(&c, 0.5 + k, 1.0);
	ck_assert_double_ne(c.t, 100);
	c.ops->reset(&c);
	ck_assert_double_eq(c.t, 100);
	ck_assert_double_eq(c.t_past, 100);
	ck_assert_double_eq(c.integ, 0);
	ck_assert_double_eq(c.e_prev, 0);
	ck_assert_uint_eq(c.steps, 0);
}
END_TEST

/* ---- closed loop on a plant model ---------------------------------- */

/*
 * The plant: a client with `demand` requests ready every period, each
 * costing e_req joules (disk plus driver CPU). The driver's shaper serves
 * floor(t + carry) requests of the budget, carrying the fraction, but never
 * more than the demand. The measurement has seeded uniform noise of
 * +-noise (relative). lag moves that fraction of a period's energy into the
 * next period (requests completing after the period ends).
 */
struct plant {
	double e_req, demand, noise, lag, carry, prev_j;
	int quantize;
	uint64_t rng;
};

static double plant_rand(struct plant *p) /* xorshift64, in [-1, 1) */
{
	p->rng ^= p->rng << 13;
	p->rng ^= p->rng >> 7;
	p->rng ^= p->rng << 17;
	return (double)(p->rng >> 11) / 4503599627370496.0 - 1.0;
}

static double plant_period(struct plant *p, double t)
{
	double served;
	if (p->quantize) {
		double b = floor(t + p->carry);
		p->carry = t + p->carry - b;
		served = b < p->demand ? b : p->demand;
	} else {
		served = t < p->demand ? t : p->demand;
	}
	double e = p->e_req * served;
	if (p->prev_j < 0)
		p->prev_j = e;
	double ec = ((1 - p->lag) * e + p->lag * p->prev_j) * (1 + p->noise * plant_rand(p));
	p->prev_j = e;
	return ec;
}

#define HORIZON 150 /* periods (30 s) */
#define PAPER_BAND 0.10
#define PAPER_SETTLE_MAX 50 /* steps: 10 s */
#define PI_BAND 0.05
#define PI_SETTLE_MAX 25 /* steps: 5 s */
#define NOISE 0.02  /* +-2 % per period */

struct loop_result {
	int init_rc;   /* throttle_init's return */
	int t_outside; /* steps that returned t outside [t_min, t_max] */
	int settle;    /* control steps before ec stays within the band */
	double t_pp;   /* peak-to-peak of t over the last 100 periods */
	double r_lo, r_hi; /* ec / el range over the last 100 periods */
	double t_lo, t_hi;
};

/* Run `periods` periods from the default configuration (no Check
 * assertions: the report runs it outside a test); settle is the number of steps before the first
 * period from which every period's ec is within +-band of el (HORIZON + 1
 * if never). */
static struct loop_result run_loop_cfg(const struct throttle_ops *ops,
				       const struct throttle_cfg *cfg, struct plant *p,
				       double el, double band, int periods)
{
	struct throttle c;
	struct throttle_cfg g = *cfg;
	struct loop_result r = {0, 0, 0, 0, INFINITY, -INFINITY, INFINITY, -INFINITY};
	r.init_rc = throttle_init(&c, ops, &g);
	if (r.init_rc != 0)
		return r;
	int last_out = 0;
	for (int k = 1; k <= periods; k++) {
		double t = c.t;
		double ec = plant_period(p, t);
		if (fabs(ec - el) > band * el)
			last_out = k;
		if (k > periods - 100) {
			r.t_lo = fmin(r.t_lo, t);
			r.t_hi = fmax(r.t_hi, t);
			r.r_lo = fmin(r.r_lo, ec / el);
			r.r_hi = fmax(r.r_hi, ec / el);
		}
		double tn = c.ops->step(&c, ec, el);
		if (!(tn >= g.t_min && tn <= g.t_max))
			r.t_outside++;
	}
	r.settle = last_out == periods ? periods + 1 : last_out;
	r.t_pp = r.t_hi - r.t_lo;
	return r;
}

static struct loop_result run_loop(const struct throttle_ops *ops, struct plant *p,
				   double el, double band, int periods)
{
	struct throttle_cfg g;
	throttle_cfg_default(&g);
	return run_loop_cfg(ops, &g, p, el, band, periods);
}

/* Every combination of these with a target budget >= 100 requests/period. */
static const double loop_ereq[] = {1e-5, 1e-4, 1e-3, 1e-2};
static const double loop_demand[] = {125, 200, 500, 1000, 2000, 5000, 10000};
static const double loop_frac[] = {0.2, 0.35, 0.5, 0.65, 0.8};
#define N_EREQ (sizeof loop_ereq / sizeof loop_ereq[0])
#define N_DEMAND (sizeof loop_demand / sizeof loop_demand[0])
#define N_FRAC (sizeof loop_frac / sizeof loop_frac[0])
#define LOOP_MAX (N_EREQ * N_DEMAND * N_FRAC)
#define TARGET_MIN 100.0

struct loop_case {
	double e_req, demand, frac;
};
static struct loop_case loop_cases[LOOP_MAX];
static int n_loop_cases;

static void build_loop_cases(void)
{
	n_loop_cases = 0;
	for (size_t a = 0; a < N_EREQ; a++)
		for (size_t b = 0; b < N_DEMAND; b++)
			for (size_t f = 0; f < N_FRAC; f++)
				if (loop_demand[b] * loop_frac[f] >= TARGET_MIN)
					loop_cases[n_loop_cases++] = (struct loop_case){
						loop_ereq[a], loop_demand[b], loop_frac[f]};
}

static struct loop_result run_case_cfg(const struct throttle_ops *ops,
				       const struct throttle_cfg *cfg, int i, double noise,
				       double band)
{
	const struct loop_case *q = &loop_cases[i];
	struct plant p = {q->e_req, q->demand, noise, 0, 0, -1, 1,
			  0x9e3779b97f4a7c15ULL ^ (uint64_t)(i + 1)};
	/* the limit is frac of the client's unconstrained energy */
	double el = q->frac * q->demand * q->e_req;
	return run_loop_cfg(ops, cfg, &p, el, band, HORIZON);
}

static struct loop_result run_case(const struct throttle_ops *ops, int i, double band)
{
	struct throttle_cfg g;
	throttle_cfg_default(&g);
	return run_case_cfg(ops, &g, i, NOISE, band);
}

/* The noise-robust PI gains (docs/MODELS-throttle.md). */
#define ROBUST_KP 0.05
#define ROBUST_KI 0.3
#define NOISE_HIGH 0.03 /* +-3 % per period */

static struct loop_result run_case_robust(int i, double noise)
{
	struct throttle_cfg g;
	throttle_cfg_default(&g);
	g.kp = ROBUST_KP;
	g.ki = ROBUST_KI;
	return run_case_cfg(&throttle_pi, &g, i, noise, PI_BAND);
}

static void assert_ran(const struct loop_result *r)
{
	ck_assert_int_eq(r->init_rc, 0);
	ck_assert_int_eq(r->t_outside, 0);
}


START_TEST(test_paper_closed_loop)
{
	struct loop_result r = run_case(&throttle_paper, _i, PAPER_BAND);
	assert_ran(&r);
	const struct loop_case *q = &loop_cases[_i];
	ck_assert_msg(r.settle < PAPER_SETTLE_MAX,
		      "paper: e_req %g demand %g frac %g: settles after %d steps",
		      q->e_req, q->demand, q->frac, r.settle);
}
END_TEST

START_TEST(test_pi_closed_loop)
{
	struct loop_result r = run_case(&throttle_pi, _i, PI_BAND);
	assert_ran(&r);
	const struct loop_case *q = &loop_cases[_i];
	ck_assert_msg(r.settle < PI_SETTLE_MAX,
		      "pi: e_req %g demand %g frac %g: settles after %d steps",
		      q->e_req, q->demand, q->frac, r.settle);
}
END_TEST

/* kp 0.05, ki 0.3 trade speed for noise: within +-5 % in under 25 steps
 * even at +-3 % noise, where the defaults leave the band now and then. */
START_TEST(test_pi_robust_gains)
{
	struct loop_result r = run_case_robust(_i, NOISE_HIGH);
	assert_ran(&r);
	const struct loop_case *q = &loop_cases[_i];
	ck_assert_msg(r.settle < PI_SETTLE_MAX,
		      "pi (kp 0.05, ki 0.3, +-3%% noise): e_req %g demand %g frac %g: %d steps",
		      q->e_req, q->demand, q->frac, r.settle);
}
END_TEST

/* The PI law also settles when a part of each period's energy is booked in
 * the next period (lag 0.2 and 0.4): its proportional term damps the
 * extra pole. */
START_TEST(test_pi_closed_loop_lag)
{
	static const double lags[] = {0.2, 0.4};
	for (int j = 0; j < 2; j++)
		for (int i = 0; i < n_loop_cases; i += 3) {
			const struct loop_case *q = &loop_cases[i];
			struct plant p = {q->e_req, q->demand, NOISE, lags[j], 0, -1, 1,
					  0x51ed27ULL + (uint64_t)i};
			double el = q->frac * q->demand * q->e_req;
			struct loop_result r = run_loop(&throttle_pi, &p, el, PI_BAND, HORIZON);
			assert_ran(&r);
			ck_assert_msg(r.settle < PI_SETTLE_MAX,
				      "pi lag %g: demand %g frac %g: %d steps", lags[j],
				      q->demand, q->frac, r.settle);
		}
}
END_TEST

/* A client that stops issuing requests: PI raises t gently (x1.25 per
 * period) up to t_max; when it resumes above its limit the law cuts by up
 * to 4x per period and is back within 5 % in a bounded number of steps. */
START_TEST(test_pi_demand_returns)
{
	struct throttle c;
	mk(&c, &throttle_pi, 100, 1, 10000);
	struct plant p = {1e-3, 1000, NOISE, 0, 0, -1, 1, 77};
	double el = 0.5 * 1000 * 1e-3;
	for (int k = 0; k < 10; k++)
		c.ops->step(&c, 0.0, el);
	ck_assert_double_eq_tol(c.t, 100 * pow(1.25, 10), 1e-6);
	int last_out = 0;
	for (int k = 1; k <= 100; k++) {
		double ec = plant_period(&p, c.t);
		if (fabs(ec - el) > PI_BAND * el)
			last_out = k;
		c.ops->step(&c, ec, el);
	}
	ck_assert_int_lt(last_out, PI_SETTLE_MAX);
}
END_TEST

/* ---- the paper's limit cycle at small budgets, pinned --------------- */

/*
 * Near the target the rule alternates signs, and its +-1 steps settle into
 * cycles of a fixed size in requests, whatever the target:
 * - a 2-cycle a, a + d with d = 1/(1 - gain_damp) = 4/3 (both steps damped);
 * - a 4-cycle of steps +A, -(A/4 + 1), -A, +(A/4 + 1) with
 *   A = (1 + gain_amp)/(1 - gain_amp gain_damp) = 3.5, peak-to-peak
 *   A (1 + gain_damp) + 1 = 43/8 = 5.375.
 * Relative to a target of 5 requests per period that is 27 % or 108 %.
 */
/* The cycles are the same size in requests at any target (noise-free);
 * which one the loop falls into depends on the approach. */
START_TEST(test_limit_cycle_size)
{
	static const struct {
		double target, pp;
	} cyc[] = {{5, 4.0 / 3}, {1000, 4.0 / 3}, {20, 43.0 / 8}, {4000, 43.0 / 8}};
	for (int i = 0; i < 4; i++) {
		struct plant p = {1e-3, 2 * cyc[i].target, 0, 0, 0, -1, 0, 1};
		struct loop_result r = run_loop(&throttle_paper, &p, cyc[i].target * 1e-3,
						PAPER_BAND, HORIZON);
		assert_ran(&r);
		ck_assert_msg(fabs(r.t_pp - cyc[i].pp) < 1e-6, "target %g: p-p %.9g, want %.9g",
			      cyc[i].target, r.t_pp, cyc[i].pp);
	}
}
END_TEST

START_TEST(test_limit_cycle_2)
{
	/* continuous plant (no shaper rounding), no noise, target 5 */
	struct plant p = {1e-3, 10, 0, 0, 0, -1, 0, 1};
	struct loop_result r = run_loop(&throttle_paper, &p, 5e-3, PAPER_BAND, HORIZON);
	assert_ran(&r);
	ck_assert_double_eq_tol(r.t_pp, 4.0 / 3, 1e-9);
	ck_assert_double_eq_tol(r.r_lo, 0.75208, 1e-4);
	ck_assert_double_eq_tol(r.r_hi, 1.01875, 1e-4);
	ck_assert_int_gt(r.settle, HORIZON); /* never within +-10 % for good */
	if (report())
		printf("limit cycle, continuous plant, target 5: t in [%.4f, %.4f] "
		       "(p-p %.4f), ec/el in [%.4f, %.4f]\n",
		       r.t_lo, r.t_hi, r.t_pp, r.r_lo, r.r_hi);
}
END_TEST

START_TEST(test_limit_cycle_4)
{
	/* continuous plant, no noise, target 20 */
	struct plant p = {1e-3, 40, 0, 0, 0, -1, 0, 1};
	struct loop_result r = run_loop(&throttle_paper, &p, 20e-3, PAPER_BAND, HORIZON);
	assert_ran(&r);
	ck_assert_double_eq_tol(r.t_pp, 43.0 / 8, 1e-9);
	if (report())
		printf("limit cycle, continuous plant, target 20: t in [%.4f, %.4f] "
		       "(p-p %.4f), ec/el in [%.4f, %.4f]\n",
		       r.t_lo, r.t_hi, r.t_pp, r.r_lo, r.r_hi);
}
END_TEST

/* The shaper's integer budgets (floor with carry) turn the cycle into one
 * of 2..9 requests per period around a target of 5 (ec from 40 % to 180 %
 * of the limit); PI on the same plant serves 4..6 (+-20 %: one request). */
START_TEST(test_limit_cycle_shaper)
{
	struct plant p = {1e-3, 10, 0, 0, 0, -1, 1, 1};
	struct loop_result r = run_loop(&throttle_paper, &p, 5e-3, PAPER_BAND, HORIZON);
	assert_ran(&r);
	ck_assert_double_eq_tol(r.r_lo, 0.4, 1e-9); /* 2 requests */
	ck_assert_double_eq_tol(r.r_hi, 1.8, 1e-9); /* 9 requests */
	ck_assert_double_eq_tol(r.t_pp, 5.87, 1e-3);
	struct plant q = {1e-3, 10, NOISE, 0, 0, -1, 1, 1};
	struct loop_result rn = run_loop(&throttle_paper, &q, 5e-3, PAPER_BAND, HORIZON);
	assert_ran(&rn);
	ck_assert_double_lt(rn.r_lo, 0.5);
	ck_assert_double_gt(rn.r_hi, 1.5);
	struct plant s = {1e-3, 10, 0, 0, 0, -1, 1, 1};
	struct loop_result rp = run_loop(&throttle_pi, &s, 5e-3, PAPER_BAND, HORIZON);
	assert_ran(&rp);
	ck_assert_double_ge(rp.r_lo, 0.8 - TOL); /* at worst 4..6 requests */
	ck_assert_double_le(rp.r_hi, 1.2 + TOL);
	if (report())
		printf("limit cycle, shaper plant, target 5: paper t in [%.6f, %.6f] "
		       "(p-p %.6f), ec/el in [%.3f, %.3f]; with +-2%% noise ec/el in "
		       "[%.3f, %.3f]; pi t in [%.4f, %.4f], ec/el in [%.3f, %.3f]\n",
		       r.t_lo, r.t_hi, r.t_pp, r.r_lo, r.r_hi, rn.r_lo, rn.r_hi,
		       rp.t_lo, rp.t_hi, rp.r_lo, rp.r_hi);
}
END_TEST

/* ---- configuration -------------------------------------------------- */

enum field { F_NONE, F_T_INIT, F_T_MIN, F_T_MAX, F_DAMP, F_AMP, F_KP, F_KI };

struct cfg_case {
	const char *name;
	const struct throttle_ops *ops;
	enum field f1;
	double v1;
	enum field f2;
	double v2;
	int want;
};

static const struct cfg_case cfg_cases[] = {
	{"defaults (paper)", &throttle_paper, F_NONE, 0, F_NONE, 0, 0},
	{"defaults (pi)", &throttle_pi, F_NONE, 0, F_NONE, 0, 0},
	{"t_init 0", &throttle_paper, F_T_INIT, 0, F_NONE, 0, JV_EINVAL},
	{"t_init < 0", &throttle_paper, F_T_INIT, -5, F_T_MIN, -10, JV_EINVAL},
	{"t_min < 0", &throttle_paper, F_T_MIN, -1, F_NONE, 0, JV_EINVAL},
	{"t_min > t_init", &throttle_paper, F_T_MIN, 200, F_NONE, 0, JV_EINVAL},
	{"t_init > t_max", &throttle_paper, F_T_MAX, 50, F_NONE, 0, JV_EINVAL},
	{"t_min = t_init = t_max", &throttle_paper, F_T_MIN, 100, F_T_MAX, 100, 0},
	{"t_min 0 (paper)", &throttle_paper, F_T_MIN, 0, F_NONE, 0, 0},
	{"t_min 0 (pi: multiplicative)", &throttle_pi, F_T_MIN, 0, F_NONE, 0, JV_EINVAL},
	{"t_init NaN", &throttle_paper, F_T_INIT, NAN, F_NONE, 0, JV_EINVAL},
	{"t_max inf", &throttle_paper, F_T_MAX, INFINITY, F_NONE, 0, JV_EINVAL},
	{"gain_damp < 0", &throttle_paper, F_DAMP, -0.1, F_NONE, 0, JV_EINVAL},
	{"gain_damp > 1", &throttle_paper, F_DAMP, 1.5, F_NONE, 0, JV_EINVAL},
	{"gain_damp 0 and 1", &throttle_paper, F_DAMP, 0, F_AMP, 0, 0},
	{"gain_amp < 0", &throttle_paper, F_AMP, -1, F_NONE, 0, JV_EINVAL},
	{"gain_amp > max", &throttle_paper, F_AMP, 4.5, F_NONE, 0, JV_EINVAL},
	{"gain_amp NaN (pi: finite anyway)", &throttle_pi, F_AMP, NAN, F_NONE, 0, JV_EINVAL},
	{"paper ignores kp, ki", &throttle_paper, F_KP, 0, F_KI, 0, 0},
	{"pi ignores gain_damp", &throttle_pi, F_DAMP, 7, F_NONE, 0, 0},
	{"ki 0", &throttle_pi, F_KI, 0, F_NONE, 0, JV_EINVAL},
	{"ki 2 (unstable)", &throttle_pi, F_KI, 2, F_KP, 0, JV_EINVAL},
	{"kp < 0", &throttle_pi, F_KP, -0.1, F_NONE, 0, JV_EINVAL},
	{"ki + 2 kp >= 2", &throttle_pi, F_KP, 0.6, F_KI, 0.8, JV_EINVAL},
	{"deadbeat ki 1, kp 0", &throttle_pi, F_KP, 0, F_KI, 1, 0},
	{"no ops", NULL, F_NONE, 0, F_NONE, 0, JV_EINVAL},
};
#define N_CFG ((int)(sizeof cfg_cases / sizeof cfg_cases[0]))

static void set_field(struct throttle_cfg *g, enum field f, double v)
{
	switch (f) {
	case F_NONE: break;
	case F_T_INIT: g->t_init = v; break;
	case F_T_MIN: g->t_min = v; break;
	case F_T_MAX: g->t_max = v; break;
	case F_DAMP: g->gain_damp = v; break;
	case F_AMP: g->gain_amp = v; break;
	case F_KP: g->kp = v; break;
	case F_KI: g->ki = v; break;
	}
}

START_TEST(test_cfg)
{
	const struct cfg_case *q = &cfg_cases[_i];
	struct throttle_cfg g;
	throttle_cfg_default(&g);
	set_field(&g, q->f1, q->v1);
	set_field(&g, q->f2, q->v2);
	struct throttle c, sentinel;
	memset(&c, 0x5a, sizeof c);
	sentinel = c;
	int rc = throttle_init(&c, q->ops, &g);
	ck_assert_msg(rc == q->want, "%s: got %d, want %d", q->name, rc, q->want);
	if (rc != 0)
		ck_assert_msg(memcmp(&c, &sentinel, sizeof c) == 0, "%s: c changed", q->name);
	else
		ck_assert_double_eq(c.t, g.t_init);
}
END_TEST

START_TEST(test_cfg_null)
{
	struct throttle_cfg g;
	struct throttle c;
	throttle_cfg_default(&g);
	ck_assert_int_eq(throttle_init(NULL, &throttle_paper, &g), JV_EINVAL);
	ck_assert_int_eq(throttle_init(&c, &throttle_paper, NULL), JV_EINVAL);
}
END_TEST

START_TEST(test_cfg_defaults)
{
	struct throttle_cfg g;
	throttle_cfg_default(&g);
	ck_assert_double_eq(g.t_init, 100);
	ck_assert_double_eq(g.t_min, 1);
	ck_assert_double_eq(g.t_max, 10000);
	ck_assert_double_eq(g.gain_damp, 0.25);
	ck_assert_double_eq_tol(g.gain_amp, 4.0 / 3, 1e-15);
	ck_assert_double_eq(g.kp, 0.1);
	ck_assert_double_eq(g.ki, 0.6);
}
END_TEST

/* ---- registry -------------------------------------------------------- */

struct lookup_case {
	const char *name;
	const struct throttle_ops *want;
};

static const struct lookup_case lookups[] = {
	{"paper", &throttle_paper}, {"pi", &throttle_pi}, {"PI", NULL},
	{"pid", NULL},              {"", NULL},           {"paper ", NULL},
	{NULL, NULL},
};
#define N_LOOKUPS ((int)(sizeof lookups / sizeof lookups[0]))

START_TEST(test_lookup)
{
	ck_assert_ptr_eq(throttle_lookup(lookups[_i].name), lookups[_i].want);
}
END_TEST

/* throttle_names() lists exactly the registry, in order; every entry has
 * a name, help and hooks. */
START_TEST(test_registry)
{
	char buf[256] = "";
	int n = 0;
	for (; throttle_controllers[n]; n++) {
		const struct throttle_ops *o = throttle_controllers[n];
		ck_assert(o->name && *o->name && o->help && *o->help);
		ck_assert(o->reset && o->step && o->check);
		ck_assert_ptr_eq(throttle_lookup(o->name), o);
		if (n)
			strcat(buf, ", ");
		strcat(buf, o->name);
	}
	ck_assert_int_eq(n, 2);
	ck_assert_ptr_eq(throttle_controllers[0], &throttle_paper); /* the default */
	ck_assert_str_eq(throttle_names(), buf);
}
END_TEST

#define N_CONTROLLERS 2

/* ---- report (THROTTLE_REPORT=1) -------------------------------------- */

static void print_report(void)
{
	const struct throttle_ops *ops[] = {&throttle_paper, &throttle_pi};
	const double band[] = {PAPER_BAND, PI_BAND};
	for (int o = 0; o < 2; o++) {
		int worst = 0, sum = 0;
		double worst_pp = 0;
		for (int i = 0; i < n_loop_cases; i++) {
			struct loop_result r = run_case(ops[o], i, band[o]);
			const struct loop_case *q = &loop_cases[i];
			if (q->e_req == 1e-3)
				printf("%s demand %5g frac %.2f target %6g: settles after %2d steps "
				       "(%.1f s), ec/el in [%.3f, %.3f]\n",
				       ops[o]->name, q->demand, q->frac, q->demand * q->frac,
				       r.settle, r.settle * PERIOD_S, r.r_lo, r.r_hi);
			if (r.settle > worst)
				worst = r.settle;
			sum += r.settle;
			worst_pp = fmax(worst_pp, r.t_pp / (q->demand * q->frac));
		}
		printf("%s: %d cases, band +-%.0f%%: settling mean %.1f steps, worst %d steps "
		       "(%.1f s); t peak-to-peak up to %.1f%% of target\n",
		       ops[o]->name, n_loop_cases, band[o] * 100, (double)sum / n_loop_cases,
		       worst, worst * PERIOD_S, worst_pp * 100);
	}
	const double noises[] = {NOISE, NOISE_HIGH};
	for (int k = 0; k < 2; k++) {
		int worst = 0, sum = 0, out_def = 0;
		for (int i = 0; i < n_loop_cases; i++) {
			struct loop_result r = run_case_robust(i, noises[k]);
			worst = r.settle > worst ? r.settle : worst;
			sum += r.settle;
			struct throttle_cfg g;
			throttle_cfg_default(&g);
			if (run_case_cfg(&throttle_pi, &g, i, noises[k], PI_BAND).settle >= PI_SETTLE_MAX)
				out_def++;
		}
		printf("pi kp %.2f ki %.2f at +-%.0f%% noise: settling mean %.1f steps, worst %d "
		       "(%.1f s); default gains miss 25 steps in %d cases\n", ROBUST_KP, ROBUST_KI,
		       noises[k] * 100, (double)sum / n_loop_cases, worst, worst * PERIOD_S, out_def);
	}
}

static Suite *throttle_suite(void)
{
	Suite *s = suite_create("throttle");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_paper_seq, 0, N_PAPER_SEQS);
	tcase_add_test(tc, test_paper_zero_limit);
	tcase_add_test(tc, test_paper_custom_gains);
	tcase_add_test(tc, test_pi_steps);
	tcase_add_test(tc, test_pi_idle);
	tcase_add_test(tc, test_pi_step_clamp);
	tcase_add_test(tc, test_pi_antiwindup);
	tcase_add_loop_test(tc, test_nonfinite_inputs, 0, N_CONTROLLERS);
	tcase_add_loop_test(tc, test_reset, 0, N_CONTROLLERS);
	tcase_add_loop_test(tc, test_cfg, 0, N_CFG);
	tcase_add_test(tc, test_cfg_null);
	tcase_add_test(tc, test_cfg_defaults);
	tcase_add_loop_test(tc, test_lookup, 0, N_LOOKUPS);
	tcase_add_test(tc, test_registry);
	suite_add_tcase(s, tc);

	TCase *cl = tcase_create("closed_loop");
	tcase_set_timeout(cl, 60);
	tcase_add_loop_test(cl, test_paper_closed_loop, 0, n_loop_cases);
	tcase_add_loop_test(cl, test_pi_closed_loop, 0, n_loop_cases);
	tcase_add_loop_test(cl, test_pi_robust_gains, 0, n_loop_cases);
	tcase_add_test(cl, test_pi_closed_loop_lag);
	tcase_add_test(cl, test_pi_demand_returns);
	tcase_add_test(cl, test_limit_cycle_size);
	tcase_add_test(cl, test_limit_cycle_2);
	tcase_add_test(cl, test_limit_cycle_4);
	tcase_add_test(cl, test_limit_cycle_shaper);
	suite_add_tcase(s, cl);
	return s;
}

int main(void)
{
	build_loop_cases();
	if (report())
		print_report();
	SRunner *sr = srunner_create(throttle_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
