from apps.reconciliation.formatting import money, variance_money


def test_displayed_variance_is_the_difference_of_the_displayed_amounts():
    estimated, invoiced = 506_074_900_000, 537_955_100_000  # 506.0749 and 537.9551
    assert (money(estimated, "USD"), money(invoiced, "USD")) == ("506.07", "537.96")
    # Rounding the exact variance (31.8802) would show 31.88, which does not foot on the page.
    assert money(invoiced - estimated, "USD") == "31.88"
    assert variance_money(estimated, invoiced, "USD") == "31.89"
    assert variance_money(estimated, None, "USD") == "-506.07"
    assert variance_money(1_500_000_000, 1_000_000_000, "JPY") == "-1"
