// The project's default dynamic alignment model (forecast/model/graph.py) in Stan, for the
// peer benchmark (benchmarks/bench_peers.py). Same parameters, priors, likelihoods and data:
// the data come from forecast.model.graph.observation_arrays (indices shifted to 1-based).
//
// Dynamics, state s, pole k, step t:
//   theta[s, k, 1] = initial[k][s]                 (sums to zero across states)
//   theta[s, k, t] = theta[s, k, t-1] + drift[s, k] + volatility[s, k] * (L z[s, t-1])[k]
// sampled as graph.py samples it (forecast/model/random_walk.py): the realised drift D[s]
// (mean increment, centred: multi_normal(drift_mu, diag(drift_tau^2) + Sigma_s / (T - 1))),
// the deviations from it as coefficients in the data's orthonormal basis, and the drift drawn
// given D in generated quantities.
// Measurement: eta = intercept[i, s] + sign[i] * loading[i] * (weighted mean of theta), with
// intercept = level - sign * loading * (the latent's mean over the series' cells); the state
// levels are non-centred and the UN votes' log loadings are sampled shifted by their pole's
// log volatility (graph.py).
// Gaussian kinds: Normal on the standardised link scale with AR(1) deviations written as exact
// one-step conditionals; binomial: beta-binomial with logit link; binary: Bernoulli-logit.
functions {
  // theta flattened as ((s - 1) * K + k - 1) * T + t: the row-major order of graph.py's
  // alignment.reshape((S * K * T,)), so the data's theta indices need no translation
  vector alignment_flat(matrix realised, matrix volatility, array[] vector initial,
                        array[] matrix coef, matrix basis, matrix chol) {
    int S = rows(realised);
    int K = cols(realised);
    int T = rows(basis) + 1;
    vector[S * K * T] theta;
    for (s in 1:S) {
      // deviations from the mean increment, correlated across poles: (basis coef) L^T
      matrix[T - 1, K] innovation = (basis * coef[s]) * chol';
      for (k in 1:K) {
        int base = ((s - 1) * K + k - 1) * T;
        theta[base + 1] = initial[k][s];
        theta[(base + 2):(base + T)] = initial[k][s]
            + cumulative_sum(realised[s, k] + volatility[s, k] * innovation[:, k]);
      }
    }
    return theta;
  }

  // intercept = level - sign * loading * (the latent's mean over each series' cells)
  matrix intercept_matrix(vector intercept_mu, vector intercept_tau, matrix level_z,
                          vector log_free, array[] int free, vector sign,
                          matrix centring_weight, vector theta) {
    int I = rows(intercept_mu);
    int S = cols(level_z);
    matrix[I, S] level = rep_matrix(intercept_mu, S);
    level[free] = rep_matrix(intercept_mu[free], S) + diag_pre_multiply(intercept_tau, level_z);
    vector[I] loading = rep_vector(1, I);
    loading[free] = exp(log_free);
    vector[I * S] series_mean = centring_weight * theta;  // row-major (i, s)
    matrix[I, S] intercept;
    for (i in 1:I) {
      for (s in 1:S) {
        intercept[i, s] = level[i, s] - sign[i] * loading[i] * series_mean[(i - 1) * S + s];
      }
    }
    return intercept;
  }

  // covariance of the realised drift of one state (forecast/model/random_walk.py)
  matrix realised_cov(vector drift_tau, row_vector volatility, matrix corr, int n) {
    return diag_matrix(square(drift_tau))
        + quad_form_diag(corr, volatility') / n;
  }

  // level + sign * loading * (weighted mean of theta over the steps an observation covers)
  vector predictor(vector theta, array[,] int index, matrix weight, array[] int ind,
                   array[] int cell, vector intercept_flat, vector loading_signed) {
    int N = size(ind);
    vector[N] theta_bar = rep_vector(0, N);
    for (j in 1:cols(weight)) {
      theta_bar += weight[:, j] .* theta[index[:, j]];
    }
    return intercept_flat[cell] + loading_signed[ind] .* theta_bar;
  }
}
data {
  int<lower=2> S;  // states
  int<lower=2> K;  // poles
  int<lower=2> T;  // latent steps
  int<lower=1> I;  // indicators
  int<lower=0> F;  // non-reference indicators (free loading, state-level intercepts)
  array[F] int<lower=1, upper=I> free;
  array[I] int<lower=1> pole_of_indicator;
  vector[I] sign;  // the codebook sign
  int<lower=0> G;  // Gaussian indicators
  int<lower=0> B;  // binomial indicators
  vector<lower=0, upper=1>[F] shear;  // 1 for binomial indicators (graph.py's shear)
  matrix[T - 1, T - 2] basis;  // forecast.model.random_walk.complement_basis(T - 1)
  // row (i - 1) * S + s: weights of the latent's mean over series (i, s)'s cells
  matrix[I * S, S * K * T] centring_weight;

  // priors (models/alignment.toml [priors])
  real<lower=0> initial_sd;
  real<lower=0> drift_mean_sd;
  real<lower=0> drift_pool_sd;
  real volatility_log_mean;
  real<lower=0> volatility_log_sd;
  real<lower=0> volatility_pool_sd;
  real<lower=0> lkj_eta;
  real<lower=0> intercept_sd;
  real<lower=0> intercept_pool_sd;
  real<lower=0> loading_log_sd;
  real<lower=0> noise_sd;
  real<lower=0> noise_log_sd;
  real<lower=0> persistence_alpha;
  real<lower=0> persistence_beta;
  real<lower=0> concentration_mean;
  // 0: Stan's lkj_corr_cholesky, a true LKJ(eta) on the correlation matrix, as the project's
  // model (LKJCorr plus the Jacobian it lacks); 1: LKJCorr's density alone (see the model
  // block), kept as a negative control of the density check
  int<lower=0, upper=1> lkj_as_pymc;

  // Gaussian observations, sorted by series (indicator, state, period)
  int<lower=0> N_g;
  int<lower=1> span_g;
  array[N_g, span_g] int<lower=1, upper=S * K * T> g_theta;
  matrix[N_g, span_g] g_weight;
  array[N_g] int<lower=1, upper=I> g_ind;
  array[N_g] int<lower=1, upper=S> g_state;
  array[N_g] int<lower=1, upper=G> g_local;
  vector[N_g] g_y;
  vector<lower=0, upper=1>[N_g] g_has_previous;  // 1 if the row above is the same series
  vector<lower=0>[N_g] g_gap;  // own periods since that previous observation

  // binomial observations
  int<lower=0> N_b;
  int<lower=1> span_b;
  array[N_b, span_b] int<lower=1, upper=S * K * T> b_theta;
  matrix[N_b, span_b] b_weight;
  array[N_b] int<lower=1, upper=I> b_ind;
  array[N_b] int<lower=1, upper=S> b_state;
  array[N_b] int<lower=1, upper=B> b_local;
  array[N_b] int<lower=0> b_trials;
  array[N_b] int<lower=0> b_y;

  // binary observations (none in the default model)
  int<lower=0> N_c;
  int<lower=1> span_c;
  array[N_c, span_c] int<lower=1, upper=S * K * T> c_theta;
  matrix[N_c, span_c] c_weight;
  array[N_c] int<lower=1, upper=I> c_ind;
  array[N_c] int<lower=1, upper=S> c_state;
  array[N_c] int<lower=0, upper=1> c_y;
}
transformed data {
  array[F] int pole_of_free;
  // position of intercept[i, s] in to_vector(intercept) (column-major)
  array[N_g] int g_cell;
  array[N_b] int b_cell;
  array[N_c] int c_cell;
  for (n in 1:N_g) g_cell[n] = (g_state[n] - 1) * I + g_ind[n];
  for (n in 1:N_b) b_cell[n] = (b_state[n] - 1) * I + b_ind[n];
  for (n in 1:N_c) c_cell[n] = (c_state[n] - 1) * I + c_ind[n];
  for (f in 1:F) pole_of_free[f] = pole_of_indicator[free[f]];
}
parameters {
  vector[K] drift_mu;
  vector<lower=0>[K] drift_tau;
  matrix[S, K] drift_realised;
  vector[K] volatility_log_mu;
  vector<lower=0>[K] volatility_log_tau;
  matrix[S, K] volatility_z;
  // PyMC: ZeroSumNormal(sigma=initial_sd, dims=(pole, state), n_zerosum_axes=1)
  array[K] sum_to_zero_vector[S] initial;
  array[S] matrix[T - 2, K] innovation_z;
  cholesky_factor_corr[K] innovation_chol;
  vector[I] intercept_mu;
  vector<lower=0>[F] intercept_tau;
  matrix[F, S] intercept_state_z;
  vector[F] log_loading_shifted;
  vector<lower=0>[G] noise;
  vector<lower=0, upper=1>[G] persistence;
  vector<lower=0>[B] concentration;
}
model {
  // -- dynamics, partially pooled across states per pole
  drift_mu ~ normal(0, drift_mean_sd);
  drift_tau ~ normal(0, drift_pool_sd);  // HalfNormal: the lower bound truncates at zero
  volatility_log_mu ~ normal(volatility_log_mean, volatility_log_sd);
  volatility_log_tau ~ gamma(2, 2 / volatility_pool_sd);
  to_vector(volatility_z) ~ std_normal();
  // A sum-to-zero vector with normal(0, sigma) on its elements is N(0, sigma^2 I) restricted
  // to the zero-sum subspace (Stan's transform is an isometry onto it), which is PyMC's
  // ZeroSumNormal(sigma): each element has marginal variance sigma^2 (1 - 1/S) in both.
  for (k in 1:K) initial[k] ~ normal(0, initial_sd);
  for (s in 1:S) to_vector(innovation_z[s]) ~ std_normal();
  if (lkj_as_pymc) {
    // PyMC 6's LKJCorr evaluates det(C)^(eta - 1) = prod(diag(L))^(2 (eta - 1)) on the
    // Cholesky factor and its CholeskyCorrTransform's Jacobian maps to the strictly lower
    // triangle of L, so the L -> C Jacobian, prod_k L[k, k]^(K - k), is absent: the prior it
    // samples is this density on L, not LKJ(eta) on C. Stan's cholesky_factor_corr transform
    // also has its Jacobian to the strictly lower triangle of L, so adding the same term gives
    // the same distribution.
    target += 2 * (lkj_eta - 1) * sum(log(diagonal(innovation_chol)));
  } else {
    innovation_chol ~ lkj_corr_cholesky(lkj_eta);
  }
  matrix[S, K] volatility = exp(rep_matrix(volatility_log_mu', S)
                                + rep_matrix(volatility_log_tau', S) .* volatility_z);
  matrix[K, K] corr = multiply_lower_tri_self_transpose(innovation_chol);
  for (s in 1:S) {
    drift_realised[s] ~ multi_normal(drift_mu', realised_cov(drift_tau, volatility[s], corr,
                                                              T - 1));
  }
  vector[S * K * T] theta = alignment_flat(drift_realised, volatility, initial, innovation_z,
                                           basis, innovation_chol);

  // -- measurement: reference indicators have one common intercept and loading 1; the
  // others have centred state levels around their intercept and a log-normal loading
  intercept_mu ~ normal(0, intercept_sd);
  intercept_tau ~ gamma(4, 4 / intercept_pool_sd);
  to_vector(intercept_state_z) ~ std_normal();
  vector[F] shift = (volatility_log_mu[pole_of_free] - volatility_log_mean) .* shear;
  log_loading_shifted ~ normal(shift, loading_log_sd);
  matrix[I, S] intercept = intercept_matrix(intercept_mu, intercept_tau, intercept_state_z,
                                            log_loading_shifted - shift, free, sign,
                                            centring_weight, theta);
  vector[I] loading = rep_vector(1, I);
  loading[free] = exp(log_loading_shifted - shift);
  vector[I * S] intercept_flat = to_vector(intercept);
  vector[I] loading_signed = loading .* sign;

  if (N_g > 0) {
    noise ~ lognormal(log(noise_sd), noise_log_sd);
    persistence ~ beta(persistence_alpha, persistence_beta);
    vector[N_g] mu = predictor(theta, g_theta, g_weight, g_ind, g_cell, intercept_flat,
                               loading_signed);
    vector[N_g] resid = g_y - mu;
    // rows are sorted by series: a previous observation is the row above (graph.py)
    vector[N_g] resid_prev = append_row(rep_vector(0, 1), resid[1:(N_g - 1)]);
    vector[N_g] phi_d = pow(persistence[g_local], g_gap);
    g_y ~ normal(mu + g_has_previous .* phi_d .* resid_prev,
                 noise[g_local] .* sqrt(1 - g_has_previous .* square(phi_d)));
  }
  if (N_b > 0) {
    concentration ~ gamma(2, 2 / concentration_mean);
    vector[N_b] eta = predictor(theta, b_theta, b_weight, b_ind, b_cell, intercept_flat,
                                loading_signed);
    vector[N_b] kappa = concentration[b_local];
    // inv_logit(-eta) rather than 1 - inv_logit(eta), as graph.py
    b_y ~ beta_binomial(b_trials, inv_logit(eta) .* kappa, inv_logit(-eta) .* kappa);
  }
  if (N_c > 0) {
    c_y ~ bernoulli_logit(predictor(theta, c_theta, c_weight, c_ind, c_cell, intercept_flat,
                                    loading_signed));
  }
}
generated quantities {
  // graph.py's deterministics, computed once per draw, and the drift given the realised drift
  matrix[S, K] volatility = exp(rep_matrix(volatility_log_mu', S)
                                + rep_matrix(volatility_log_tau', S) .* volatility_z);
  vector[S * K * T] alignment = alignment_flat(drift_realised, volatility, initial,
                                               innovation_z, basis, innovation_chol);
  matrix[K, K] innovation_corr = multiply_lower_tri_self_transpose(innovation_chol);
  vector[F] shift = (volatility_log_mu[pole_of_free] - volatility_log_mean) .* shear;
  matrix[I, S] intercept = intercept_matrix(intercept_mu, intercept_tau, intercept_state_z,
                                            log_loading_shifted - shift, free, sign,
                                            centring_weight, alignment);
  vector[I] loading = rep_vector(1, I);
  loading[free] = exp(log_loading_shifted - shift);
  matrix[S, K] drift;
  {
    matrix[K, K] t_mat = diag_matrix(square(drift_tau));
    for (s in 1:S) {
      matrix[K, K] v = realised_cov(drift_tau, volatility[s], innovation_corr, T - 1);
      matrix[K, K] gain = mdivide_left_spd(v, t_mat);  // V^-1 T
      vector[K] cond_mean = drift_mu + gain' * (drift_realised[s]' - drift_mu);
      matrix[K, K] cond_cov = t_mat - t_mat * gain;
      cond_cov = 0.5 * (cond_cov + cond_cov') + diag_matrix(rep_vector(1e-14, K));
      drift[s] = multi_normal_rng(cond_mean, cond_cov)';
    }
  }
}
