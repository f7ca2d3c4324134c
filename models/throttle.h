/*
 * throttle: the host energy manager's disk throttle controllers (paper
 * §3.3.6, design §5), behind an ops table (fio ioengine_ops style).
 *
 * Every disk period (default 200 ms) the manager measures ec, the energy
 * the driver VM spent for a client in the last period (disk active energy
 * plus the driver's CPU energy for its requests, joules), and the limit
 * el = limit_w * period (joules). The controller returns the new throttle
 * factor t: the client's request budget per shaping period (the shaper
 * serves at most floor(t) requests per period and carries the fraction).
 * Controllers: `paper` (the paper's rule; the default) and `pi` (a
 * scale-free proportional-integral law for comparison). See throttle.c.
 */
#ifndef JV_THROTTLE_H
#define JV_THROTTLE_H

#include <stdint.h>

/* Defaults (see the theory comment in throttle.c). */
#define THROTTLE_T_INIT_DEFAULT 100.0 /* requests per shaping period */
#define THROTTLE_T_MIN_DEFAULT 1.0    /* requests per shaping period */
#define THROTTLE_T_MAX_DEFAULT 10000.0 /* requests per shaping period */
#define THROTTLE_GAIN_DAMP_DEFAULT 0.25 /* paper: 1/4 */
#define THROTTLE_GAIN_AMP_DEFAULT (4.0 / 3.0) /* paper: 4/3 */
#define THROTTLE_KP_DEFAULT 0.1 /* pi: dimensionless (log domain) */
#define THROTTLE_KI_DEFAULT 0.6 /* pi: dimensionless (log domain) */

struct throttle_cfg {
	double t_init;       /* initial factor (budget), > 0 */
	double t_min, t_max; /* clamp, 0 <= t_min <= t_init <= t_max */
	double gain_damp;    /* paper: 1/4, in [0, 1] (checked by paper) */
	double gain_amp;     /* paper: 4/3, in [0, THROTTLE_GAIN_AMP_MAX] (paper) */
	double kp, ki;       /* PI gains: kp >= 0, ki > 0, ki + 2 kp < 2 (pi) */
};

struct throttle {
	const struct throttle_ops *ops;
	struct throttle_cfg cfg;
	double t;             /* present factor */
	double t_past;        /* the paper's tl */
	double integ, e_prev; /* PI state: sum of the integral terms ki*e
			       * applied while t was not clamped (ln units,
			       * a diagnostic) and the last error
			       * (ln(el/ec), clamped) */
	uint64_t steps;
};

struct throttle_ops {
	const char *name;
	const char *help;
	/* The law's own checks of cfg beyond the common bounds (its gains;
	 * pi: t_min > 0): 0 or JV_EINVAL. Called by throttle_init. */
	int (*check)(const struct throttle_cfg *cfg);
	void (*reset)(struct throttle *c);
	/* One control step: consumed ec_j, limit el_j in the last period;
	 * returns and stores the new t. Non-finite inputs leave t unchanged. */
	double (*step)(struct throttle *c, double ec_j, double el_j);
};

/* Sanity bound on gain_amp (the paper's is 4/3). */
#define THROTTLE_GAIN_AMP_MAX 4.0

extern const struct throttle_ops throttle_paper, throttle_pi;
extern const struct throttle_ops *const throttle_controllers[]; /* NULL-terminated */
/* NULL if unknown. */
const struct throttle_ops *throttle_lookup(const char *name);
/* "paper, pi": the valid names, for error messages. */
const char *throttle_names(void);
/* Fill cfg with the defaults above. */
void throttle_cfg_default(struct throttle_cfg *cfg);
/* Validate cfg (JV_EINVAL on a NULL argument, a non-finite field, bad
 * bounds, or gains the chosen law rejects; gains the law does not use are
 * not checked beyond being finite), store it and reset the controller:
 * t = t_past = t_init, integ = e_prev = 0, steps = 0. Returns 0 or
 * JV_EINVAL; c is untouched on error. */
int throttle_init(struct throttle *c, const struct throttle_ops *ops,
		  const struct throttle_cfg *cfg);

#endif
