"""Deterministic, idempotent seed data: 200 products in 8 categories, and the admin user."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from reference_service.auth import PasswordHashing
from reference_service.catalog.models import Product
from reference_service.inventory.models import StockLevel
from reference_service.settings import Settings
from reference_service.users import service as users
from reference_service.users.models import Role, User

CATEGORIES = (
    "books",
    "electronics",
    "garden",
    "grocery",
    "home",
    "outdoors",
    "sports",
    "toys",
)
PRODUCTS_PER_CATEGORY = 25
_ADJECTIVES = ("Classic", "Compact", "Deluxe", "Eco", "Everyday", "Pro", "Smart", "Travel")
_NOUNS = {
    "books": ("Novel", "Cookbook", "Atlas", "Guide", "Anthology"),
    "electronics": ("Headphones", "Charger", "Speaker", "Keyboard", "Camera"),
    "garden": ("Trowel", "Planter", "Hose", "Seed Kit", "Pruner"),
    "grocery": ("Coffee", "Tea", "Olive Oil", "Granola", "Honey"),
    "home": ("Lamp", "Blanket", "Mug", "Vase", "Clock"),
    "outdoors": ("Tent", "Lantern", "Backpack", "Stove", "Hammock"),
    "sports": ("Ball", "Racket", "Yoga Mat", "Bottle", "Gloves"),
    "toys": ("Puzzle", "Robot", "Kite", "Blocks", "Train"),
}


def seed_products() -> list[dict[str, object]]:
    """The same 200 products every time: sku, name, category, price (cents), stock."""
    products: list[dict[str, object]] = []
    for c, category in enumerate(CATEGORIES):
        for i in range(PRODUCTS_PER_CATEGORY):
            noun = _NOUNS[category][i % 5]
            adjective = _ADJECTIVES[(i // 5 + c) % len(_ADJECTIVES)]
            products.append(
                {
                    "sku": f"{category[:3].upper()}-{i + 1:04d}",
                    "name": f"{adjective} {noun} {i + 1}",
                    "category": category,
                    "description": f"{adjective} {noun.lower()} from the {category} range.",
                    "price_amount": 499 + ((c * 37 + i * 113) % 200) * 50,
                    "stock": 50 + (c * 11 + i * 7) % 151,
                }
            )
    return products


async def seed(session: AsyncSession, settings: Settings) -> dict[str, int]:
    """Insert what is missing; existing rows are left as they are."""
    existing = set(await session.scalars(select(Product.sku)))
    added = 0
    for data in seed_products():
        if data["sku"] in existing:
            continue
        stock = int(str(data.pop("stock")))
        product = Product(price_currency="USD", **data)
        session.add(product)
        await session.flush()
        session.add(StockLevel(product_id=product.id, stock=stock))
        added += 1
    email = users.normalise_email(settings.admin_email)
    admin = await session.scalar(select(User).where(User.email == email))
    if admin is None:
        # One hash, offline: a single slot and no queue is all the seed needs.
        passwords = PasswordHashing(1, queue=0, wait_s=settings.password_hash_wait_s)
        await users.register(
            session, passwords, email, settings.admin_password, "Administrator", role=Role.ADMIN
        )
    elif admin.role != Role.ADMIN:
        admin.role = Role.ADMIN
    return {"products_added": added, "products_total": len(existing) + added}
