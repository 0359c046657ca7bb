"""Who pays for sending goods back, and what of it the merchant refunds (pure module).

* Consumer Rights Protection Law (消费者权益保护法) art. 24 para. 2: goods that do not meet the
  quality requirements are returned, exchanged or repaired at the business's cost of transport
  and other necessary costs;
* art. 25 and 网络购买商品七日无理由退货暂行办法 art. 18: a no-reason return is sent back at the
  consumer's cost, unless agreed otherwise;
* Taobao dispute rules: where responsibility is unclear, the seller pays the shipping.

So the merchant refunds the consumer's postage for a return on every problem but the 7-day
no-reason return. The postage is refunded on top of the price paid (it is not part of the
refund ceiling) and is kept to :data:`LIMIT_FEN`, a limit against mistyped amounts.
"""

from __future__ import annotations

#: Problem types whose return postage is the consumer's.
CONSUMER_PAYS: frozenset[str] = frozenset({"no_reason_return_7day"})
#: The most postage (fen) taken for one return: more than a parcel costs within China.
LIMIT_FEN = 200_00


def merchant_pays(problem_type: str) -> bool:
    """Whether the merchant refunds the postage of sending these goods back."""
    return problem_type not in CONSUMER_PAYS
