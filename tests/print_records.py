"""One record of every printable kind for a customer (built with the models directly: the print
tests need stored documents, not the sales rules that make them)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from models import db
from models.contract import Contract, ContractLine
from models.customer import Contact, Customer
from models.invoice import Invoice
from models.product import Product
from models.quote import Quote, QuoteLine
from models.sales import Order, OrderLine, Payment


def documents(app, customer_id: int, owner_id: int, *, tag: str = "A") -> dict[str, int]:
    """{'customer': id, 'order': id, 'delivery': id (the order), 'quote', 'contract', 'receipt',
    'invoice', 'envelope': id (the customer)}."""
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        customer.province, customer.city, customer.district = "浙江省", "杭州市", "西湖区"
        customer.address, customer.zip_code = "文三路 100 号", "310012"
        db.session.add(Contact(customer_id=customer_id, name=f"李明{tag}", is_primary=True, position="采购经理",
                               mobile="13805712345"))
        teapot = Product(code=f"CP-{tag}12", name="青花瓷茶具套装", spec="8 件套", unit="套")
        cup = Product(code=f"CP-{tag}31", name="紫砂壶", spec="300ml", unit="把")
        db.session.add_all([teapot, cup])
        db.session.flush()
        money = {"gross": Decimal("1234.50"), "discount": Decimal("0"), "total": Decimal("1234.50"),
                 "amount_ex_tax": Decimal("1092.48"), "tax": Decimal("142.02"), "tax_rate": Decimal("0.13")}
        order = Order(number=f"DD2026{tag}001", customer_id=customer_id, salesperson_id=owner_id,
                      order_date=date(2026, 11, 22), consignee="李明", address="文三路 100 号", **money)
        order.lines = [OrderLine(product_id=teapot.id, quantity=10, unit_price=Decimal("123.45"),
                                 discount_rate=Decimal("0.9"), amount=Decimal("1111.05")),
                       OrderLine(product_id=cup.id, quantity=1, unit_price=Decimal("123.45"),
                                 amount=Decimal("123.45"))]
        quote = Quote(number=f"BJ2026{tag}001", customer_id=customer_id, owner_id=owner_id,
                      quote_date=date(2026, 11, 22), valid_until=date(2026, 12, 22), **money)
        quote.lines = [QuoteLine(product_id=teapot.id, quantity=10, unit_price=Decimal("123.45"),
                                 discount_rate=Decimal("0.9"), amount=Decimal("1111.05"))]
        contract = Contract(number=f"HT2026{tag}001", title="2027 年度茶具采购合同", customer_id=customer_id,
                            owner_id=owner_id, signed_on=date(2026, 11, 22), terms="货到 30 日内付清。", **money)
        contract.lines = [ContractLine(product_id=cup.id, quantity=3, unit_price=Decimal("100"),
                                       amount=Decimal("300"))]
        db.session.add_all([order, quote, contract])
        db.session.flush()
        receipt = Payment(customer_id=customer_id, order_id=order.id, owner_id=owner_id, amount=Decimal("1234.50"),
                          paid_on=date(2026, 11, 22), method="transfer", note="11 月货款")
        invoice = Invoice(number=f"KP2026{tag}001", customer_id=customer_id, owner_id=owner_id, order_id=order.id,
                          title_name="杭州青禾贸易有限公司", tax_no="91330106MA2XXXXXXX", amount=Decimal("1234.50"),
                          amount_ex_tax=Decimal("1092.48"), tax=Decimal("142.02"), tax_rate=Decimal("0.13"))
        db.session.add_all([receipt, invoice])
        db.session.commit()
        return {"customer": customer_id, "order": order.id, "delivery": order.id, "quote": quote.id,
                "contract": contract.id, "receipt": receipt.id, "invoice": invoice.id, "envelope": customer_id}
