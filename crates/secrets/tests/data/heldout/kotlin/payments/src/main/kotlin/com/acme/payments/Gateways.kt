package com.acme.payments

import com.braintreegateway.BraintreeGateway
import com.squareup.square.SquareClient
import com.squareup.square.Environment

object Gateways {
    private const val BRAINTREE_TOKEN = "access_token$production$mh5gchu9wq48bz6d$05194d806be7b43dcad6497a7cffe631"
    private const val SQUARE_ACCESS_TOKEN = "EAAANK2x42_OPTVGKOH2HjY0GNChNId2elw8v-cT75ydmalkVmnI4yNUEW3oJBeC"
    private const val SQUARE_APP_SECRET = "sq0csp-i1fVnheGq1GllyBfVkjy4sSt2tRGfAIce07Yq2dCBm4"
    private const val SHIPPO_TOKEN = "shippo_live_0f5e18dacd79168b7b17e3c277f6a2d5020c8b2a"
    const val IDEMPOTENCY_NAMESPACE = "c1e6175e-a8aa-4bb3-b379-8514ee2e60d6"

    val braintree: BraintreeGateway by lazy { BraintreeGateway(BRAINTREE_TOKEN) }

    val square: SquareClient by lazy {
        SquareClient.Builder()
            .environment(Environment.PRODUCTION)
            .accessToken(SQUARE_ACCESS_TOKEN)
            .build()
    }

    fun shippoHeaders(): Map<String, String> = mapOf(
        "Authorization" to "ShippoToken $SHIPPO_TOKEN",
        "Content-Type" to "application/json",
    )

    fun oauthSecret(): String = System.getenv("SQUARE_APP_SECRET") ?: SQUARE_APP_SECRET
}
