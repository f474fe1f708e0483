"""Spiders. `OutletSpider` serves every configured outlet; see README, "Outlet-specific code"."""
