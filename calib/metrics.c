/*
 * metrics: error metrics between predicted and measured power (metrics.h).
 *
 * Definitions over n windows with predicted p_i, measured m_i (W) and
 * lengths dt_i (s): MAE = mean |p - m|; RMSE = sqrt(mean (p - m)^2); MAPE =
 * 100 mean |p - m| / |m| over windows with |m| > CAL_METRICS_MIN_W; energy
 * error = 100 (sum p dt - sum m dt) / sum m dt; r = Pearson over windows.
 * Window means are unweighted (windows have equal length except at the
 * edges); energies use dt.
 */
#include "calib/metrics.h"

#include <math.h>
#include <string.h>

#include "calib/align.h"

#define CAL_METRICS_MIN_W 1e-9 /* measured power treated as zero below this */

void cal_metrics_compute(const double *pred, const double *meas, const double *dt, size_t n,
			 struct cal_metrics *m)
{
	memset(m, 0, sizeof *m);
	m->n = n;
	if (n == 0)
		return;
	double sae = 0, sse = 0, sape = 0, bias = 0;
	size_t nape = 0;
	for (size_t i = 0; i < n; i++) {
		double e = pred[i] - meas[i], w = dt ? dt[i] : 1.0;
		sae += fabs(e);
		sse += e * e;
		bias += e;
		if (fabs(meas[i]) > CAL_METRICS_MIN_W) {
			sape += fabs(e) / fabs(meas[i]);
			nape++;
		}
		m->predicted_j += pred[i] * w;
		m->measured_j += meas[i] * w;
	}
	m->mae_w = sae / (double)n;
	m->rmse_w = sqrt(sse / (double)n);
	m->bias_w = bias / (double)n;
	if (nape) {
		m->mape_pct = 100.0 * sape / (double)nape;
		m->mape_ok = 1;
	}
	if (fabs(m->measured_j) > 0) {
		m->energy_error_pct = 100.0 * (m->predicted_j - m->measured_j) / m->measured_j;
		m->energy_ok = isfinite(m->energy_error_pct);
		if (!m->energy_ok)
			m->energy_error_pct = 0;
	}
	if (n >= 2) {
		double mp = 0, mm = 0, sp = 0, sm = 0;
		for (size_t i = 0; i < n; i++) {
			mp += pred[i];
			mm += meas[i];
		}
		mp /= (double)n;
		mm /= (double)n;
		for (size_t i = 0; i < n; i++) {
			sp += (pred[i] - mp) * (pred[i] - mp);
			sm += (meas[i] - mm) * (meas[i] - mm);
		}
		if (sp > 1e-24 * (1 + mp * mp) * (double)n && sm > 1e-24 * (1 + mm * mm) * (double)n) {
			m->corr = cal_pearson(pred, meas, n);
			m->corr_ok = 1;
		}
	}
}
