"""Chapter 3's measurements (Paccolat et al. 2021): invariant data, the one-hidden-layer net and its NTK, the
adaptive gradient flow, frozen-kernel learning, Lambda, kernel PCA and the mutual-information estimator."""

import math

import pytest
import torch

from lib.data.invariant import CYLINDER_RADIUS, X_MAX, compress, invariant_data, stripe_threshold
from lib.measures.amplification import amplification, neuron_vectors
from lib.measures.ntk import binary_mutual_information, empirical_ntk, gaussian_mixture_mi, kernel_pca, ntk_gram
from lib.nets.one_hidden_layer import OneHiddenLayer
from lib.training.gradient_flow import loss_derivative, loss_value, train_kernel, train_network


def test_models_have_equiprobable_labels():
    assert stripe_threshold() == pytest.approx(X_MAX, abs=1e-5)
    assert CYLINDER_RADIUS == pytest.approx(1.1774, abs=1e-4)
    g = torch.Generator().manual_seed(0)
    for model in ("stripe", "cylinder"):
        x, y = invariant_data(model, 40000, 3, generator=g)
        assert float((y > 0).double().mean()) == pytest.approx(0.5, abs=0.01)
    x, y = invariant_data("stripe", 1000, 4, generator=g)
    assert torch.equal(compress(x, 10.0)[:, 0], x[:, 0]) and torch.allclose(compress(x, 10.0)[:, 1:] * 10, x[:, 1:])
    with pytest.raises(ValueError, match="unknown invariant model"):
        invariant_data("sphere", 10, 3)


def brute_force_ntk(model, x):
    rows = []
    for xi in x:
        model.zero_grad()
        model(xi[None]).sum().backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]))
    J = torch.stack(rows)
    return J @ J.T


def test_ntk_closed_form_equals_torch_func_and_brute_force():
    g = torch.Generator().manual_seed(1)
    model = OneHiddenLayer(4, 30, generator=g)
    x = torch.randn(12, 4, generator=g, dtype=torch.float64)
    closed = ntk_gram(model, x)
    torch.testing.assert_close(closed, brute_force_ntk(model, x), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(empirical_ntk(model, x, chunk=5), closed, rtol=1e-12, atol=1e-14)
    x2 = torch.randn(7, 4, generator=g, dtype=torch.float64)
    torch.testing.assert_close(empirical_ntk(model, x, x2, chunk=5), ntk_gram(model, x, x2), rtol=1e-12, atol=1e-14)
    # neurons summed in chunks and only the lower blocks multiplied: the same matrix, exactly symmetric
    chunked = ntk_gram(model, x, neuron_chunk=7, row_blocks=5)
    torch.testing.assert_close(chunked, closed, rtol=1e-12, atol=1e-14)
    assert torch.equal(chunked, chunked.T)
    torch.testing.assert_close(ntk_gram(model, x, x2, neuron_chunk=7), ntk_gram(model, x, x2), rtol=1e-12, atol=1e-14)



@pytest.mark.parametrize("d, h", [(5, 10), (3, 20), (8, 6)])
def test_ntk_gram_has_rank_at_most_h_times_d_plus_one(d, h):
    # chapter 3's rank bound: the (omega, b) features sigma'(z) beta [x / sqrt(d), 1] span h(d + 1) dimensions and
    # the beta feature sigma(z) = z sigma'(z) lies in their span, so h(d + 2) points leave the Gram matrix singular
    # (its rank near h(d + 1): neurons active on few points add fewer); half as many points: full rank
    g = torch.Generator().manual_seed(4)
    model = OneHiddenLayer(d, h, generator=g)
    x = torch.randn(3 * h * (d + 2), d, generator=g, dtype=torch.float64)
    assert h * d < int(torch.linalg.matrix_rank(ntk_gram(model, x))) <= h * (d + 1)
    few = x[: h * (d + 1) // 2]
    assert int(torch.linalg.matrix_rank(ntk_gram(model, few))) == len(few)

def test_neuron_vectors_lie_on_their_hyperplanes_and_lambda_starts_at_one():
    g = torch.Generator().manual_seed(2)
    model = OneHiddenLayer(5, 20000, generator=g)
    z = neuron_vectors(model)
    pre = (z * model.omega.detach()).sum(1) / math.sqrt(5) + model.b.detach()
    assert float(pre.abs().max()) < 1e-10
    cos = torch.nn.functional.cosine_similarity(z, model.omega.detach(), dim=1).abs()
    assert float(cos.min()) > 1 - 1e-12
    assert amplification(model) == pytest.approx(1.0, abs=0.03)
    assert amplification(model, d_par=2) == pytest.approx(1.0, abs=0.03)
    with torch.no_grad():
        model.omega[:, 1:] /= 7.0
    assert amplification(model) == pytest.approx(7.0, rel=0.03)


def test_gradient_flow_conserves_beta2_minus_omega2_minus_b2_while_the_weights_grow():
    g = torch.Generator().manual_seed(3)
    x, y = invariant_data("stripe", 40, 3, generator=g)
    model = OneHiddenLayer(3, 400, generator=g)
    c0 = model.conserved()
    scale = (model.beta ** 2 + model.omega.pow(2).sum(1) + model.b ** 2).detach()
    flow = train_network(model, x, y, alpha=1e-2, max_steps=3000, min_step=1e-2, until=0.5)
    assert flow.t_star is not None and flow.t_star <= flow.t and flow.history[-1]["fitted"] > 0.5
    assert flow.history[0]["fitted"] == 0.0 and not flow.converged
    grown = (model.beta ** 2 + model.omega.pow(2).sum(1) + model.b ** 2).detach()
    assert float(grown.mean()) > 2 * float(scale.mean())  # small alpha: the weights had to grow
    assert float(((model.conserved() - c0).abs() / grown).max()) < 0.05  # Euler steps: first-order drift


def test_flow_stops_at_t_star_and_rejects_unknown_losses():
    g = torch.Generator().manual_seed(7)
    x, y = invariant_data("stripe", 60, 3, generator=g)
    flow = train_network(OneHiddenLayer(3, 200, generator=g), x, y, alpha=1e-3, min_step=1e-2, until=0.1)
    assert flow.t == flow.t_star and 0.1 < flow.history[-1]["fitted"] < 0.2
    with pytest.raises(ValueError, match="unknown loss"):
        train_network(OneHiddenLayer(3, 10), x, y, alpha=1.0, loss="square")


def test_frozen_kernel_flow_fits_and_matches_the_lazy_network():
    g = torch.Generator().manual_seed(4)
    x, y = invariant_data("stripe", 30, 3, generator=g)
    xt, _ = invariant_data("stripe", 500, 3, generator=g)
    model = OneHiddenLayer(3, 2000, generator=g)
    K, Kt = ntk_gram(model, x), ntk_gram(model, xt, x)
    a, flow = train_kernel(K, y, min_step=1e-2)
    assert flow.converged and float((y * (K @ a)).min()) >= 1 - 1e-9
    with torch.no_grad():
        f0 = model(xt)
    train_network(model, x, y, alpha=1e4, min_step=1e-2)
    with torch.no_grad():
        lazy = 1e4 * (model(xt) - f0)
    agree = float((torch.sign(lazy) == torch.sign(Kt @ a)).double().mean())
    assert agree > 0.97


def test_kernel_pca_projections_sum_to_one_over_p():
    g = torch.Generator().manual_seed(5)
    A = torch.randn(50, 50, generator=g, dtype=torch.float64)
    y = torch.where(torch.rand(50, generator=g) > 0.5, 1.0, -1.0).double()
    out = kernel_pca(A @ A.T, y)
    assert bool((out["eigenvalues"][:-1] >= out["eigenvalues"][1:]).all())
    assert float(out["projections"].sum()) == pytest.approx(1 / 50, rel=1e-10)
    v = y / y.norm()  # a kernel whose top eigenvector is the label: all the projection on it
    top = kernel_pca(10 * torch.outer(v, v) + 1e-3 * torch.eye(50, dtype=torch.float64), y, top=3)
    assert float(top["projections"][0]) == pytest.approx(1 / 50, rel=1e-8)


@pytest.mark.parametrize("separation", [0.0, 1.0, 2.0, 4.0])
def test_mutual_information_estimator_against_the_exact_gaussian_mixture(separation):
    g = torch.Generator().manual_seed(6)
    y = torch.where(torch.arange(20000) % 2 == 0, 1.0, -1.0).double()
    x = torch.randn(20000, generator=g, dtype=torch.float64) + y * separation / 2
    exact = gaussian_mixture_mi(separation)
    assert binary_mutual_information(x, y, k=20) == pytest.approx(exact, abs=0.03)
    # the paper's k = 5 on 4,000 points: biased upwards by small-sample fluctuations of the radii (~0.08 bit at 0)
    assert binary_mutual_information(x[:4000], y[:4000], k=5) == pytest.approx(exact + 0.04, abs=0.06)
    if separation == 0.0:
        assert exact == pytest.approx(0.0, abs=1e-9)


def test_one_dimensional_neighbour_radii_equal_the_brute_force():
    from lib.measures.ntk import _kth_distance

    g = torch.Generator().manual_seed(8)
    q, r = torch.randn(700, 1, generator=g, dtype=torch.float64), torch.randn(300, 1, generator=g, dtype=torch.float64)
    for k in (1, 5, 20):
        torch.testing.assert_close(_kth_distance(q, r, k), torch.cdist(q, r).kthvalue(k, dim=1).values, atol=1e-9,
                                   rtol=0)


@pytest.mark.parametrize("loss", ["hinge", "softhinge"])
def test_loss_derivative_equals_autograd(loss):
    margins = torch.linspace(-2, 3, 501, dtype=torch.float64)
    margins = margins[(margins - 1).abs() > 1e-9].requires_grad_(True)  # the hinge kink at 1 has no derivative
    (auto,) = torch.autograd.grad(loss_value(margins, loss).sum(), margins)
    # torch's softplus is linear beyond 20, where sigmoid differs from 1 by < 2e-9
    torch.testing.assert_close(loss_derivative(margins.detach(), loss), auto, rtol=0, atol=1e-8)
    with pytest.raises(ValueError, match="unknown loss"):
        loss_derivative(margins.detach(), "logistic")
