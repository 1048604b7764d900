-- Sample rows, inserted through the gateway: each customer and order lands on the shard that
-- the hash of its customer_id picks.
INSERT INTO main.product (sku, description, price) VALUES
  ('SKU-1001', 'monitor', 129.99),
  ('SKU-1002', 'keyboard', 49.50),
  ('SKU-1003', 'mouse', 19.00);

INSERT INTO commerce.customer (customer_id, email, name) VALUES
  (1, 'alice@example.com', 'Alice'),
  (2, 'bob@example.com', 'Bob'),
  (3, 'charlie@example.com', 'Charlie'),
  (4, 'dan@example.com', 'Dan'),
  (5, 'eve@example.com', 'Eve'),
  (6, 'zoe@example.com', 'Zoë'),
  (7, 'ola@example.com', 'Åsa'),
  (8, 'max@example.com', NULL);

INSERT INTO commerce.corder (order_id, customer_id, sku, price) VALUES
  (1, 1, 'SKU-1001', 129.99),
  (2, 1, 'SKU-1003', 19.00),
  (3, 2, 'SKU-1002', 49.50),
  (4, 3, 'SKU-1001', 129.99),
  (5, 5, 'SKU-1003', 19.00),
  (6, 6, 'SKU-1002', 49.50),
  (7, 8, 'SKU-1001', 129.99);
