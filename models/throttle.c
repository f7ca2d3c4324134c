/*
 * THEORY
 */
#include "models/throttle.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "base/jv_err.h"

/* pi: error clamp (natural log units): ec is taken as at most 16x and at
 * least 1/16 of el, so one wild period cannot move t by more than the step
 * clamp allows. */
#define PI_ERR_MAX_LN 2.772588722239781 /* ln 16 */
/* pi: largest change of t in one step, as a factor (ln 4). */
#define PI_STEP_MAX_LN 1.386294361119891 /* ln 4 */
/* pi: growth of t per period in which the client consumed nothing. */
#define PI_IDLE_GROWTH 1.25

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void thr_reset(struct throttle *c)
{
	c->t = c->t_past = c->cfg.t_init;
	c->integ = c->e_prev = 0.0;
	c->steps = 0;
}

/* ---- paper ---------------------------------------------------------- */

static double sgn_of(double v)
{
	return v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0;
}

static int paper_check(const struct throttle_cfg *g)
{
	if (!(g->gain_damp >= 0 && g->gain_damp <= 1))
		return JV_EINVAL;
	if (!(g->gain_amp >= 0 && g->gain_amp <= THROTTLE_GAIN_AMP_MAX))
		return JV_EINVAL;
	return 0;
}

static double paper_step(struct throttle *c, double ec_j, double el_j)
{
	if (!isfinite(ec_j) || !isfinite(el_j))
		return c->t;
	double t = c->t, tl = c->t_past, dt;
	double sgn = sgn_of(el_j - ec_j);
	if ((ec_j > el_j && t > tl) || (ec_j < el_j && t < tl))
		dt = c->cfg.gain_damp * (tl - t) + sgn;
	else
		dt = c->cfg.gain_amp * (t - tl) + sgn;
	c->t_past = t;
	c->t = clampd(t + dt, c->cfg.t_min, c->cfg.t_max);
	c->steps++;
	return c->t;
}

/* ---- pi ------------------------------------------------------------- */

/* The log-domain relative error ln(el/ec), clamped; *idle set when the
 * client consumed nothing under a positive limit. */
static double pi_error(double ec_j, double el_j, int *idle)
{
	*idle = 0;
	if (el_j <= 0)
		return ec_j > 0 ? -PI_ERR_MAX_LN : 0.0;
	if (ec_j <= 0) {
		*idle = 1;
		return 0.0;
	}
	return clampd(log(el_j / ec_j), -PI_ERR_MAX_LN, PI_ERR_MAX_LN);
}

/* Multiplicative: t = 0 could never grow again, so t_min > 0. The loop
 * ln t' = ln t + kp (e - e_prev) + ki e around a plant ln ec = ln t + c
 * has poles z^2 - (1 - kp - ki) z - kp = 0, inside the unit circle (Jury)
 * for kp >= 0, ki > 0, ki + 2 kp < 2. */
static int pi_check(const struct throttle_cfg *g)
{
	if (!(g->t_min > 0))
		return JV_EINVAL;
	if (!(g->kp >= 0 && g->ki > 0 && g->ki + 2 * g->kp < 2))
		return JV_EINVAL;
	return 0;
}

static double pi_step(struct throttle *c, double ec_j, double el_j)
{
	if (!isfinite(ec_j) || !isfinite(el_j))
		return c->t;
	int idle;
	double e = pi_error(ec_j, el_j, &idle);
	double t = c->t, tn;
	c->t_past = t;
	c->steps++;
	if (idle) {
		c->t = clampd(t * PI_IDLE_GROWTH, c->cfg.t_min, c->cfg.t_max);
		c->e_prev = 0.0;
		return c->t;
	}
	double u = c->cfg.kp * (e - c->e_prev) + c->cfg.ki * e;
	u = clampd(u, -PI_STEP_MAX_LN, PI_STEP_MAX_LN);
	tn = t * exp(u);
	if (tn > c->cfg.t_max)
		tn = c->cfg.t_max;
	else if (tn < c->cfg.t_min)
		tn = c->cfg.t_min;
	else
		c->integ += c->cfg.ki * e; /* anti-windup: only while unclamped */
	c->e_prev = e;
	c->t = tn;
	return c->t;
}

/* ---- registry ------------------------------------------------------- */

const struct throttle_ops throttle_paper = {
	.name = "paper",
	.help = "the paper's rule: +-1 request per period, damped on reversal (1/4), amplified otherwise (4/3)",
	.check = paper_check,
	.reset = thr_reset,
	.step = paper_step,
};

const struct throttle_ops throttle_pi = {
	.name = "pi",
	.help = "proportional-integral on ln(el/ec), multiplicative on t (scale-free)",
	.check = pi_check,
	.reset = thr_reset,
	.step = pi_step,
};

const struct throttle_ops *const throttle_controllers[] = {&throttle_paper, &throttle_pi, NULL};

const struct throttle_ops *throttle_lookup(const char *name)
{
	if (!name)
		return NULL;
	for (int i = 0; throttle_controllers[i]; i++)
		if (strcmp(throttle_controllers[i]->name, name) == 0)
			return throttle_controllers[i];
	return NULL;
}

const char *throttle_names(void)
{
	return "paper, pi";
}

void throttle_cfg_default(struct throttle_cfg *cfg)
{
	cfg->t_init = THROTTLE_T_INIT_DEFAULT;
	cfg->t_min = THROTTLE_T_MIN_DEFAULT;
	cfg->t_max = THROTTLE_T_MAX_DEFAULT;
	cfg->gain_damp = THROTTLE_GAIN_DAMP_DEFAULT;
	cfg->gain_amp = THROTTLE_GAIN_AMP_DEFAULT;
	cfg->kp = THROTTLE_KP_DEFAULT;
	cfg->ki = THROTTLE_KI_DEFAULT;
}

/* Common checks: every field finite, 0 <= t_min <= t_init <= t_max,
 * t_init > 0. */
static int cfg_valid(const struct throttle_cfg *g)
{
	const double v[] = {g->t_init, g->t_min, g->t_max, g->gain_damp,
			    g->gain_amp, g->kp, g->ki};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (!isfinite(v[i]))
			return 0;
	return g->t_init > 0 && g->t_min >= 0 && g->t_min <= g->t_init &&
	       g->t_init <= g->t_max;
}

int throttle_init(struct throttle *c, const struct throttle_ops *ops,
		  const struct throttle_cfg *cfg)
{
	if (!c || !ops || !cfg || !cfg_valid(cfg))
		return JV_EINVAL;
	if (ops->check && ops->check(cfg) != 0)
		return JV_EINVAL;
	c->ops = ops;
	c->cfg = *cfg;
	ops->reset(c);
	return 0;
}
