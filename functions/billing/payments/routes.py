"""Credit purchases, the billing portal, cloud subscriptions, and Stripe's coupons and promotion codes (deployed
within `billing`)."""

from __future__ import annotations

from functions.billing.payments import handlers as h
from shared.http.router import Route

COUPON = "/customers/admin/coupons/<coupon_id>"
PROMO = "/customers/admin/promo-codes/<promo_code_id>"

ROUTES = [
    Route("POST", "/customers/credit", h.buy_credit, "InitiateCreditPurchase"),
    Route("POST", "/customers/billing", h.billing_portal, "AccessBillingPortal"),
    Route("POST", "/customers/cloud-subscription-checkout", h.subscription_checkout, "CreateCloudSubscriptionCheckout"),
    Route(
        "POST",
        "/customers/cloud-subscription-checkout/<tier>",
        h.subscription_checkout,
        "CreateCloudSubscriptionCheckoutTier",
    ),
    Route("GET", "/customers/cloud-subscription-status", h.subscription_status, "GetCloudSubscriptionStatus"),
    Route(
        "GET",
        "/admin/customers/<customer_id>/cloud-subscription-status",
        h.admin_subscription_status,
        "GetAdminCustomerCloudSubscriptionStatus",
    ),
    Route("DELETE", "/admin/customers/<customer_id>/stripe-data", h.forget_stripe, "DeleteAdminCustomerStripeData"),
    Route("GET", "/customers/admin/coupons", h.list_coupons, "ListCoupons"),
    Route("POST", "/customers/admin/coupons", h.create_coupon, "CreateCoupon"),
    Route("GET", COUPON, h.get_coupon, "GetCoupon"),
    Route("PATCH", COUPON, h.update_coupon, "UpdateCoupon"),
    Route("DELETE", COUPON, h.delete_coupon, "DeleteCoupon"),
    Route("GET", "/customers/admin/promo-codes", h.list_promo_codes, "ListPromoCodes"),
    Route("POST", "/customers/admin/promo-codes", h.create_promo_code, "CreatePromoCode"),
    Route("GET", PROMO, h.get_promo_code, "GetPromoCode"),
    Route("PATCH", PROMO, h.update_promo_code, "UpdatePromoCode"),
    Route("DELETE", PROMO, h.delete_promo_code, "DeletePromoCode"),
]
