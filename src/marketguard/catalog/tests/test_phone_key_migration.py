"""Migration catalog/0004 fills the phone keys of buyers already in the database, in batches."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@pytest.mark.django_db(transaction=True)
def test_phone_keys_filled_by_the_migration():
    executor = MigrationExecutor(connection)
    executor.migrate([("catalog", "0003_return_address")])
    apps = executor.loader.project_state([("catalog", "0003_return_address")]).apps
    Buyer = apps.get_model("catalog", "Buyer")
    for i in range(4500):
        Buyer.objects.create(external_id=f"B{i}", name="x", phone=f"+86 139-{i:04d}-0000" if i % 3 else "")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([("catalog", "0004_buyer_phone_key")])
    apps = executor.loader.project_state([("catalog", "0004_buyer_phone_key")]).apps
    Buyer = apps.get_model("catalog", "Buyer")
    assert Buyer.objects.get(external_id="B1").phone_key == "13900010000"
    assert Buyer.objects.get(external_id="B4499").phone_key == "13944990000"
    assert Buyer.objects.get(external_id="B3").phone_key == ""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
