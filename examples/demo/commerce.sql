CREATE TABLE customer (
  customer_id BIGINT NOT NULL PRIMARY KEY,
  email VARCHAR(128) NOT NULL,
  name VARCHAR(128) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE corder (
  order_id BIGINT NOT NULL PRIMARY KEY,
  customer_id BIGINT NOT NULL,
  sku VARCHAR(64) NOT NULL,
  price DECIMAL(10,2) NOT NULL,
  KEY corder_customer (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
