"""Drift families and built-in models: values against NumPy, identities, input checks."""

import math

import _kuramoto as kur
import numpy as np
import pytest
from numba import njit
from scipy import special

from poc import ParameterTypeError
from poc.drifts import (
    ACTIVATIONS,
    DoubleWell,
    FeatureDrift,
    LinearMeanField,
    MeanFieldNetwork,
    NumpyDrift,
    PairwiseDrift,
)
from poc.drifts.network import activate_row

# --- user functions (module level so they compile once) -----------------------


@njit
def feat(x, out):
    out[0] = math.sin(x[0])
    out[1] = x[0] * x[1]
    out[2] = 1.0 / (1.0 + x[0] * x[0] + x[1] * x[1])


@njit
def resp(x, u, out):
    out[0] = -x[0] + u[0] * x[1] + u[2]
    out[1] = -u[1] * x[1] + math.cos(u[0])


def feat_np(x):
    return np.stack([np.sin(x[:, 0]), x[:, 0] * x[:, 1], 1.0 / (1.0 + (x**2).sum(1))], axis=1)


def resp_np(x, u):
    return np.stack([-x[:, 0] + u[0] * x[:, 1] + u[2], -u[1] * x[:, 1] + np.cos(u[0])], axis=1)


@njit
def conf(x, out):
    for k in range(x.size):
        out[k] = -x[k] ** 3


@njit
def inter(x, y, out):
    for k in range(x.size):
        out[k] = math.sin(y[k] - x[k]) + 0.1 * (y[(k + 1) % x.size] - x[k])


def pairwise_np(x):
    diff = x[None, :, :] - x[:, None, :]  # [i, j] = x_j - x_i
    shifted = np.roll(x, -1, axis=1)[None, :, :] - x[:, None, :]  # y_{k+1} - x_k
    return -(x**3) + (np.sin(diff) + 0.1 * shifted).mean(axis=1)


@njit
def three_args(x, y, out):
    out[0] = x[0]


@njit
def bad_typing(x, out):
    out[0] = x.no_such_attribute


def plain_python(x, out):
    out[:] = x


@pytest.fixture
def cloud():
    return np.random.default_rng(0).standard_normal((300, 2))


# --- generic families ---------------------------------------------------------


def test_feature_drift_matches_numpy(cloud):
    drift = FeatureDrift(feat, resp, 3)
    u = feat_np(cloud).mean(axis=0)
    np.testing.assert_allclose(drift.mean_features(cloud), u, rtol=1e-13)
    np.testing.assert_allclose(drift(cloud), resp_np(cloud, u), rtol=1e-12, atol=1e-14)
    v = np.array([0.3, -1.0, 2.0])
    np.testing.assert_allclose(drift.response_drift(cloud, v), resp_np(cloud, v), rtol=1e-13)


def test_pairwise_drift_matches_numpy(cloud):
    drift = PairwiseDrift(conf, inter)
    np.testing.assert_allclose(drift(cloud), pairwise_np(cloud), rtol=1e-12, atol=1e-13)


def test_double_well_and_linear_match_their_formulas(cloud):
    kappa = 0.7
    r2 = (cloud**2).sum(axis=1, keepdims=True)
    want = cloud * (1 - r2) + kappa * (cloud.mean(axis=0) - cloud)
    np.testing.assert_allclose(DoubleWell(kappa)(cloud), want, rtol=1e-12, atol=1e-13)
    lin = LinearMeanField(1.3, -0.4)
    np.testing.assert_allclose(lin(cloud), -1.3 * cloud - 0.4 * cloud.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(lin.mean_features(cloud), cloud.mean(axis=0), rtol=1e-13)


def test_one_dimensional_cloud_is_a_column():
    x = np.linspace(-1, 1, 7)
    np.testing.assert_allclose(LinearMeanField(1.0, 1.0)(x), (-x + x.mean())[:, None])


# --- mean-field network ---------------------------------------------------------


def _phi_np(h, act):
    if act == "tanh":
        return np.tanh(h), 1 - np.tanh(h) ** 2
    if act == "sigmoid":
        s = special.expit(h)
        return s, s * (1 - s)
    return np.maximum(h, 0.0), (h > 0).astype(float)


def _network_np(X, Y, theta, w, act):
    """Outputs (m, c), loss and drift (n, d) of the network, written with NumPy."""
    n = theta.shape[0]
    p, dp = _phi_np(X @ theta.T, act)  # (m, n)
    f = p @ w / n
    r = f - Y
    loss = 0.5 * np.sum(r**2) / X.shape[0]
    drift = -((dp * (r @ w.T)).T @ X) / X.shape[0]
    return f, loss, drift


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("c", [1, 3])
def test_network_matches_numpy(act, c):
    rng = np.random.default_rng(1)
    m, d, n = 37, 5, 130
    X = rng.standard_normal((m, d))
    Y = rng.standard_normal((m, c))
    theta = rng.standard_normal((n, d))
    if c == 1:
        net, w = MeanFieldNetwork(X, Y[:, 0], act), np.ones((n, 1))
    else:
        w = rng.standard_normal((n, c))
        net = MeanFieldNetwork(X, Y, act, output_weights=w)
    f, loss, drift = _network_np(X, Y, theta, w, act)
    np.testing.assert_allclose(net(theta), drift, rtol=1e-11, atol=1e-14)
    pred = net.predict(theta)
    np.testing.assert_allclose(pred if c > 1 else pred[:, None], f, rtol=1e-12, atol=1e-15)
    assert net.loss(theta) == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(net.mean_features(theta), f.ravel(), rtol=1e-12, atol=1e-15)
    Xnew = rng.standard_normal((4, d))
    fnew, _, _ = _network_np(Xnew, np.zeros((4, c)), theta, w, act)
    np.testing.assert_allclose(net.predict(theta, Xnew).reshape(4, c), fnew, rtol=1e-12)


@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
def test_network_drift_is_minus_n_times_loss_gradient(act):
    """Analytic identity: b(theta_i) = -n dL/dtheta_i (central finite differences)."""
    rng = np.random.default_rng(2)
    m, d, n = 11, 3, 6
    net = MeanFieldNetwork(rng.standard_normal((m, d)), rng.standard_normal((m, 2)), act)
    theta = rng.standard_normal((n, d))
    h = 1e-6
    grad = np.empty_like(theta)
    for i in range(n):
        for j in range(d):
            tp, tm = theta.copy(), theta.copy()
            tp[i, j] += h
            tm[i, j] -= h
            grad[i, j] = (net.loss(tp) - net.loss(tm)) / (2 * h)
    # central differences: truncation O(h^2) ~ 1e-12, rounding ~ 1e-16 / h ~ 1e-10
    np.testing.assert_allclose(net(theta), -n * grad, rtol=1e-6, atol=1e-8)


def test_network_chunked_products_agree(monkeypatch):
    import poc.drifts.network as dr

    rng = np.random.default_rng(3)
    net = MeanFieldNetwork(rng.standard_normal((50, 4)), rng.standard_normal(50))
    theta = rng.standard_normal((64, 4))
    full, pred = net(theta), net.predict(theta)
    monkeypatch.setattr(dr, "MAX_H", 64 * 7)  # 7 data rows per chunk
    np.testing.assert_allclose(net(theta), full, rtol=1e-12, atol=1e-15)
    # BLAS may order a chunk's dot products differently: equal to rounding
    np.testing.assert_allclose(net.predict(theta), pred, rtol=1e-13, atol=1e-16)


def test_activation_kernels_within_a_few_ulp():
    h = np.concatenate([np.logspace(-300, 2.9, 20000), [0.0, 19.0, 19.1, 20.0, 40.0, 700.0, 1e300],
                        np.linspace(0.0, 30.0, 100001)])
    h = np.concatenate([h, -h])
    z = np.exp(-2 * np.abs(h))
    for kind, ref, dref in [
        (0, np.tanh(h), 4 * z / (1 + z) ** 2),
        (1, special.expit(h), special.expit(h) * special.expit(-h)),
    ]:
        row, phi = h.copy(), np.empty_like(h)
        activate_row(row, phi, kind)
        # below exp(-708) ~ 3e-308 values are clamped there (absolute error only)
        ok = np.abs(h) <= 350
        ulp = np.abs(phi - ref)[ok] / np.spacing(np.abs(ref[ok]))
        assert ulp.max() <= 4, (kind, h[ok][np.argmax(ulp)])
        assert np.all(np.abs(phi - ref)[~ok] <= 4 * np.spacing(np.abs(ref[~ok])) + 1e-306)
        # derivatives are formed without cancellation: a few ulp relative, even where tiny
        np.testing.assert_allclose(row, dref, rtol=2e-15, atol=1e-306)


def test_drawn_output_weights_are_signs_shared_across_sizes():
    rng = np.random.default_rng(4)
    net = MeanFieldNetwork(rng.standard_normal((5, 2)), np.eye(5)[:, :3], output_seed=7)
    big, small = net.second_layer(100), net.second_layer(40)
    assert set(np.unique(big)) == {-1.0, 1.0}
    np.testing.assert_array_equal(big[:40], small)
    assert 0.3 < (big > 0).mean() < 0.7  # 300 fair signs: 0.5 +- 0.087 at 3 sd
    scalar = MeanFieldNetwork(rng.standard_normal((5, 2)), np.ones(5))
    np.testing.assert_array_equal(scalar.second_layer(8), np.ones((8, 1)))


# --- linear model marginal ----------------------------------------------------------


def test_linear_marginal_parameters():
    lin = LinearMeanField(a=0.8, c=0.3)
    t, x0, alpha, sigma = 1.7, 2.0, 1.5, 0.4
    dist = lin.marginal(t, x0, alpha, sigma)
    assert dist.kwds["loc"] == pytest.approx(x0 * math.exp((0.3 - 0.8) * t))
    want = sigma * ((1 - math.exp(-0.8 * alpha * t)) / (0.8 * alpha)) ** (1 / alpha)
    assert dist.kwds["scale"] == pytest.approx(want)
    assert dist.args == (alpha, 0.0)
    # a = 0: Levy motion with drift, scale sigma t^(1/alpha)
    assert LinearMeanField(0.0, 0.0).marginal(2.0, 0.0, 1.2, 1.0).kwds["scale"] == pytest.approx(
        2.0 ** (1 / 1.2))
    # alpha = 2 is the Gaussian OU marginal: variance sigma^2 (1 - exp(-2 a t)) / a
    g = LinearMeanField(0.8, 0.0).marginal(t, x0, 2.0, sigma)
    assert 2 * g.kwds["scale"] ** 2 == pytest.approx(sigma**2 * (1 - math.exp(-1.6 * t)) / 0.8)


# --- input checks --------------------------------------------------------------------


def test_user_function_errors_name_the_function():
    with pytest.raises(TypeError, match=r"features must be a numba.njit function"):
        FeatureDrift(plain_python, resp, 2)
    with pytest.raises(TypeError, match=r"features \(three_args\) does not compile"):
        FeatureDrift(three_args, resp, 2)
    with pytest.raises(TypeError, match=r"response \(feat\) does not compile"):
        FeatureDrift(feat, feat, 2)
    with pytest.raises(TypeError, match=r"features \(bad_typing\) does not compile"):
        FeatureDrift(bad_typing, resp, 2)
    with pytest.raises(TypeError, match=r"interaction \(conf\) does not compile"):
        PairwiseDrift(conf, conf)
    with pytest.raises(TypeError, match=r"confinement must be a numba.njit function"):
        PairwiseDrift(None, inter)
    with pytest.raises(ValueError, match=r"n_features must be an integer in \[1, inf\), got 0"):
        FeatureDrift(feat, resp, 0)
    with pytest.raises(ParameterTypeError, match="n_features"):
        FeatureDrift(feat, resp, 2.5)


def test_network_input_errors():
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((10, 3)), rng.standard_normal(10)
    with pytest.raises(ValueError, match="activation must be one of 'tanh', 'sigmoid', 'relu', got 'gelu'"):
        MeanFieldNetwork(X, y, "gelu")
    with pytest.raises(ValueError, match=r"y must have one entry .* m = 10 rows, got y of shape"):
        MeanFieldNetwork(X, y[:9])
    with pytest.raises(ValueError, match="X must be 2-D"):
        MeanFieldNetwork(y, y)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="X must be finite"):
        MeanFieldNetwork(bad, y)
    with pytest.raises(ValueError, match="output_weights must have c = 1 column"):
        MeanFieldNetwork(X, y, output_weights=np.ones((4, 2)))
    net = MeanFieldNetwork(X, y, output_weights=np.ones(4))
    with pytest.raises(ValueError, match=r"output_weights has 4 rows .* n = 5 particles"):
        net(np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"d = 2 coordinate.* needs d = 3"):
        MeanFieldNetwork(X, y)(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="X must have d = 3 columns"):
        MeanFieldNetwork(X, y).predict(np.zeros((4, 3)), X=np.zeros((2, 2)))


def test_other_input_errors(cloud):
    with pytest.raises(ParameterTypeError, match="a must be a real number"):
        LinearMeanField("1", 0.0)
    with pytest.raises(ValueError, match=r"kappa must be in \[0, inf\), got -1"):
        DoubleWell(-1)
    lin = LinearMeanField(1.0, 0.5)
    with pytest.raises(ValueError, match=r"t must be in \(0, inf\), got 0"):
        lin.marginal(0, 1.0, 1.5, 1.0)
    with pytest.raises(ValueError, match=r"alpha must be in \(1, 2\], got 0.9"):
        lin.marginal(1.0, 1.0, 0.9, 1.0)
    with pytest.raises(ValueError, match=r"sigma must be in \(0, inf\), got 0"):
        lin.marginal(1.0, 1.0, 1.5, 0.0)
    with pytest.raises(ValueError, match="u must have n_features = 3 entries, got 2"):
        FeatureDrift(feat, resp, 3).response_drift(cloud, [1.0, 2.0])
    with pytest.raises(ValueError, match="x must be 1-D or 2-D"):
        lin(np.zeros((2, 2, 2)))


# --- against: the drift under another cloud's empirical measure -------------------------


def _all_families():
    X = np.random.default_rng(3).standard_normal((20, 2))
    return [
        FeatureDrift(feat, resp, 3),
        LinearMeanField(0.7, 0.4),
        MeanFieldNetwork(X, np.sin(X[:, 0]), "tanh"),
        MeanFieldNetwork(X, np.eye(3)[np.arange(20) % 3], "sigmoid"),
        PairwiseDrift(conf, inter),
        DoubleWell(0.6),
        NumpyDrift(lambda x, c: pairwise_np_against(x, c), name="pairwise_np"),
    ]


def pairwise_np_against(x, c):
    diff = c[None, :, :] - x[:, None, :]
    shifted = np.roll(c, -1, axis=1)[None, :, :] - x[:, None, :]
    return -(x**3) + (np.sin(diff) + 0.1 * shifted).mean(axis=1)


@pytest.mark.parametrize("drift", _all_families(), ids=repr)
def test_against_itself_is_the_drift(drift, cloud):
    # the same kernels in the same order: bit for bit
    np.testing.assert_array_equal(drift.against(cloud, cloud), drift(cloud))


@pytest.mark.parametrize("drift", _all_families(), ids=repr)
def test_against_another_cloud_matches_numpy(drift, cloud):
    x = cloud[:77] * 0.5 + 0.1
    other = np.random.default_rng(9).standard_normal((531, 2))  # not a multiple of any block
    got = drift.against(x, other)
    assert got.shape == (77, 2)
    if isinstance(drift, FeatureDrift):  # response at the other cloud's mean features
        want = drift.response_drift(x, drift.mean_features(other))
    elif isinstance(drift, DoubleWell):
        want = x * (1 - (x**2).sum(1, keepdims=True)) + 0.6 * (other.mean(0) - x)
    else:
        want = pairwise_np_against(x, other)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


def test_pairwise_against_equals_its_feature_equivalent():
    """sin(y - x) = sin y cos x - cos y sin x: the Kuramoto kernel is also a feature drift."""
    rng = np.random.default_rng(5)
    x, other = rng.standard_normal((300, 1)), rng.standard_normal((4099, 1)) * 2
    pair = PairwiseDrift(kur.conf, kur.inter)
    feat_drift = FeatureDrift(kur.feat, kur.resp, 2)
    np.testing.assert_allclose(pair.against(x, other), feat_drift.against(x, other),
                               rtol=0, atol=1e-14)
    np.testing.assert_allclose(pair.against(x, other), kur.numpy_form(x, other), rtol=0, atol=1e-14)
    np.testing.assert_allclose(NumpyDrift(kur.numpy_form).against(x, other), kur.numpy_form(x, other),
                               rtol=0, atol=0)


def test_against_input_checks(cloud):
    b = DoubleWell()
    with pytest.raises(ValueError, match=r"same number of coordinates d: x has shape \(4, 2\), "
                                         r"cloud has shape \(5, 3\)"):
        b.against(np.zeros((4, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="cloud"):
        b.against(np.zeros((4, 2)), np.full((5, 2), np.nan))
    with pytest.raises(ValueError, match="x"):
        b.against(np.zeros((4, 2, 1)), cloud)
    net = MeanFieldNetwork(np.ones((3, 2)), np.ones(3))
    with pytest.raises(ValueError, match="needs d = 2"):
        net.against(np.zeros((4, 3)), np.zeros((5, 3)))
    # 1-D inputs are clouds in d = 1
    assert b.against(np.zeros(4), np.ones(6)).shape == (4, 1)


# --- NumpyDrift -----------------------------------------------------------------------------


def test_numpy_drift_trajectory_equals_the_njit_pairwise_drift():
    import poc

    x0 = np.random.default_rng(11).standard_normal((200, 1))
    kw = dict(alpha=1.5, sigma=0.3, step=0.02, n_steps=50, seed=4)
    a = poc.simulate(PairwiseDrift(kur.conf, kur.inter), x0, **kw).final
    b = poc.simulate(NumpyDrift(kur.numpy_form), x0, **kw).final
    # same noise; the drifts differ only in the rounding of the mean over j
    assert np.max(np.abs(a - b)) <= 1e-12


def test_numpy_drift_gets_read_only_inputs():
    seen = []

    def f(x, cloud):
        seen.append((x.flags.writeable, cloud.flags.writeable))
        return -x

    b = NumpyDrift(f)
    b.against(np.zeros((3, 1)), np.ones((4, 1)))
    assert seen and not any(w for pair in seen for w in pair)
    assert repr(b) == "NumpyDrift(f)"


def test_numpy_drift_errors_name_the_function():
    def wrong_shape(x, cloud):
        return x[:, :1].ravel()

    def blows_up(x, cloud):
        return x / 0.0

    def broken(x, cloud):
        raise RuntimeError("boom")

    with pytest.raises(ValueError, match=r"NumpyDrift 'wrong_shape': func\(x, cloud\) must return "
                                         r"shape \(len\(x\), d\) = \(5, 1\), got \(5,\)"):
        NumpyDrift(wrong_shape)
    with np.errstate(divide="ignore", invalid="ignore"), \
            pytest.raises(ValueError, match=r"NumpyDrift 'mine'.* non-finite values"):
        NumpyDrift(blows_up, name="mine")
    with pytest.raises(ValueError, match=r"NumpyDrift 'broken'.* raised RuntimeError: boom"):
        NumpyDrift(broken)
    with pytest.raises(ValueError, match=r"NumpyDrift 'complex_out'.* real array"):
        NumpyDrift(lambda x, c: x + 1j, name="complex_out")
    with pytest.raises(TypeError, match="func must be a callable"):
        NumpyDrift(3)
    with pytest.raises(TypeError, match="name must be a string"):
        NumpyDrift(kur.numpy_form, name=3)
    # a function written for d = 2 only is accepted (probed in d = 2 after d = 1 fails) ...
    b = NumpyDrift(lambda x, c: np.stack([-x[:, 1], x[:, 0]], axis=1), name="rot")
    assert b(np.ones((3, 2))).shape == (3, 2)
    # ... and the shape is checked at every call
    flaky = NumpyDrift(lambda x, c: x if len(x) == 5 else x[:1], name="flaky")
    with pytest.raises(ValueError, match=r"NumpyDrift 'flaky'.* got \(1, 1\)"):
        flaky(np.zeros((4, 1)))


# --- guards on user kernels -----------------------------------------------------------------


@njit
def returns_instead(x, y, out):
    return y - x


@njit
def writes_half(x, y, out):
    out[0] = y[0] - x[0]  # forgets out[1:] when d > 1


@njit
def features_return(x, out):
    return math.sin(x[0])


@njit
def response_skips_last(x, u, out):
    for k in range(x.size):
        out[k] = -x[k]
    out[x.size - 1] = out[x.size - 1] if u[0] > 1e9 else math.nan  # NaN is a legal value
    if u[0] > 1e9:
        out[0] = 0.0


@njit
def response_sometimes_unwritten(x, u, out):
    out[0] = -x[0]
    if x.size > 1 and x[1] > 1e9:
        out[1] = 0.0


@njit
def two_args(x, out):
    out[0] = x[0]


def test_kernel_that_returns_or_leaves_out_unwritten_is_refused():
    with pytest.raises(ValueError, match=r"interaction \(returns_instead\) returned a value .* "
                                         "write into out rather than return"):
        PairwiseDrift(kur.conf, returns_instead)
    with pytest.raises(ValueError, match=r"features \(features_return\) returned a value"):
        FeatureDrift(features_return, kur.resp, 2)
    # unwritten entries are found on first use in the d that shows them
    half = PairwiseDrift(kur.conf, writes_half)  # fine in d = 1
    with pytest.raises(ValueError, match=r"interaction \(writes_half\) left out\[1\] unwritten "
                                         r"\(1 of 2 entries\).* write into out rather than return"):
        half(np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"response \(response_sometimes_unwritten\) left out\[1\]"):
        import poc

        poc.simulate(FeatureDrift(kur.feat, response_sometimes_unwritten, 2), np.zeros((4, 2)),
                     alpha=1.5, sigma=0.1, step=0.1, n_steps=1)
    # an entry set to NaN by the function is written, not left: accepted
    FeatureDrift(kur.feat, response_skips_last, 2)(np.zeros((3, 2)))


def test_compile_errors_carry_numbas_reason():
    with pytest.raises(TypeError, match=r"interaction \(two_args\) does not compile as "
                                        r"k\(x, y, out\) with float64 1-D arrays: too many "
                                        "positional arguments$"):
        PairwiseDrift(kur.conf, two_args)
    with pytest.raises(TypeError, match=r"features \(bad_typing\) does not compile .*: Unknown "
                                        "attribute 'no_such_attribute'"):
        FeatureDrift(bad_typing, resp, 2)
    with pytest.raises(TypeError, match=r"confinement \(three_args\) does not compile .*: "
                                        "missing a required argument: 'out'"):
        PairwiseDrift(three_args, inter)
