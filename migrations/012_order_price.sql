-- An order keeps the price per unit (minor units) and currency it was accepted at: the purchase
-- script writes them with the order and the order worker stores them, whatever the sale's
-- price becomes. Orders stored before have their sale's, the best known.
ALTER TABLE orders ADD COLUMN price bigint, ADD COLUMN currency text;
UPDATE orders o SET price = s.price, currency = s.currency FROM sales s WHERE s.id = o.sale_id;
ALTER TABLE orders
  ALTER COLUMN price SET NOT NULL,
  ALTER COLUMN currency SET NOT NULL,
  ADD CONSTRAINT orders_price_check CHECK (price >= 0);
