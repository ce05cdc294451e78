using Handoff.Contracts;
using Handoff.Contracts.Security;

namespace Handoff.Grains.Tests;

/// <summary>The six digits the TV and the phone both show: one per transaction, the same from either end's data.</summary>
public sealed class MatchCodeTests
{
    private static readonly PaymentInfo Tea = new(12.50m, "CNY", "Tea House");
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_offer_on_the_phone_and_the_payment_on_the_tv_give_the_same_code()
    {
        var offer = new PaymentOffer("pay-1", "home", "tv-1", "Living room TV", "phone-1", Tea, Now.AddMinutes(2), "nonce-1", ["phone-1", "watch-1"]);
        var payment = new PaymentSnapshot("pay-1", PaymentState.Displayed, "home", "tv-1", "any", "order-1", Tea, Now, Now.AddMinutes(2), null, [], ["phone-1", "watch-1"], null, []);

        Assert.Matches(@"^\d{3} \d{3}$", Signing.MatchCode(offer));
        Assert.Equal(Signing.MatchCode(offer), Signing.MatchCode(payment));

        // 12.5 and 12.50 are one amount; the nonce (which the TV never sees) does not enter.
        Assert.Equal(Signing.MatchCode(offer), Signing.MatchCode(offer with { Info = Tea with { Amount = 12.5m }, Nonce = "other" }));

        // Every payer device offered the payment shows the same code as the TV.
        Assert.Equal(Signing.MatchCode(offer), Signing.MatchCode(offer with { PayerDeviceId = "watch-1" }));
    }

    [Fact]
    public void Another_payment_initiator_amount_or_merchant_gives_another_code()
    {
        var code = Signing.MatchCode("pay-1", "home", "tv-1", Tea);
        string[] others =
        [
            Signing.MatchCode("pay-2", "home", "tv-1", Tea),
            Signing.MatchCode("pay-1", "other", "tv-1", Tea),
            Signing.MatchCode("pay-1", "home", "tv-2", Tea),
            Signing.MatchCode("pay-1", "home", "tv-1", Tea with { Amount = 12.51m }),
            Signing.MatchCode("pay-1", "home", "tv-1", Tea with { Currency = "JPY" }),
            Signing.MatchCode("pay-1", "home", "tv-1", Tea with { Merchant = "Tea House 2" }),
        ];

        Assert.All(others, other => Assert.NotEqual(code, other));
    }
}
