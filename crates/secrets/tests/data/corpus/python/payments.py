import stripe
import logging

log = logging.getLogger(__name__)

stripe.api_key = "sk_live_Dyr7OSJoRu1XXdo0cZuzren6"

def charge(customer_id: str, cents: int) -> str:
    intent = stripe.PaymentIntent.create(amount=cents, currency='eur', customer=customer_id)
    log.info('charged %s', customer_id)
    return intent.id
