/**
 * The differential query list over the generated commerce data (customers, orders, order_lines).
 * `ordered: true` only where ORDER BY is total (ends in a unique key), so both servers must agree
 * on the exact order; everything else compares as a multiset. Queries avoid asking for one
 * representative of a collation-equal group ('alice' vs 'Alice'), which even one server picks
 * arbitrarily, and floating-point sums, whose last digit depends on the order of addition.
 */
export interface DiffQuery {
  readonly sql: string;
  readonly ordered?: boolean;
}

/** Ids to aim point queries at: the generator puts BIGINT max and 2^53+1 first. */
export interface QueryIds {
  readonly customers: readonly string[];
}

/** The ids the queries embed, by name, so known-gap lists can name the exact SQL. */
export function queryIds(ids: QueryIds) {
  const [maxId, bigId, a, b, c, d, e] = ids.customers;
  return { maxId, bigId, a, b, c, d, e, some: [a, b, c, maxId].join(', ') };
}

export function commerceQueries(ids: QueryIds): DiffQuery[] {
  const { maxId, bigId, a, b, c, d, e, some } = queryIds(ids);
  const q = (sql: string, ordered = false): DiffQuery => ({ sql, ordered });
  return [
    // --- point, IN and scatter selects
    q(`select * from customers where id = ${maxId}`),
    q(`select * from customers where id = ${bigId}`),
    q(`select * from customers where id = ${a}`),
    q(`select id, name, balance from customers where id = 9223372036854775807`),
    q(`select id, name from customers where id = 424242424242`),
    q(`select id, name, balance from customers where id in (${some})`),
    q(`select id from customers where id in (1, 2, 3, 9223372036854775807)`),
    q(`select id from customers where id = ${a} or id = ${b}`),
    q(`select * from orders where customer_id = ${a}`),
    q(`select * from orders where customer_id in (${some}) and status = 'paid'`),
    q(`select * from order_lines where customer_id = ${b}`),
    q(`select * from customers`),
    q(`select * from orders`),
    q(`select * from order_lines`),
    q(`select id, name from customers where name = 'alice'`),
    q(`select id, name from customers where name like 'Å%'`),
    q(`select id from customers where city is null`),
    q(`select id from customers where city = 'NULL'`),
    q(`select id from customers where city = ''`),
    q(`select id, balance from customers where balance between -1000000 and 1000000`),
    q(`select id, email from customers where email like 'user1%'`),
    q(`select id, tier from customers where tier = 'gold'`),
    q(`select id, birthday from customers where birthday < '1970-01-01'`),
    q(`select id, created_at from customers where created_at >= '2022-01-01 00:00:00'`),
    // Typed literals and GROUP_CONCAT's separator stay literal (they were placeholders: 1064).
    q(`select id, birthday from customers where birthday < date '1970-01-01'`),
    q(`select id from customers where created_at >= timestamp '2022-01-01 00:00:00' and id in (${some})`),
    q(`select id, time '10:30:00' from customers where id = ${a}`),
    // Syntax the parser lacked: BINARY x, UTF-8 introducers, STD().
    q(`select id from customers where binary name = 'alice'`),
    q(`select id from customers where id in (${some}) and binary name <> 'alice '`),
    q(`select id from customers where name = _utf8mb4'alice'`),
    q(`select id, name = _utf8mb4'ALICE' from customers where id = ${a}`),
    q(`select std(balance) from customers where id = ${a}`),
    q(`select group_concat(sku order by order_id, line_no separator '; ') from order_lines where customer_id = ${b}`),
    q(`select id, avatar from customers where avatar is not null`),
    q(`select id from customers where not (id = ${a})`),
    q(`select id, customer_id from orders where id = 3`),
    q(`select order_id, line_no from order_lines where sku = 'sku-001'`),
    q(`select id, note from orders where note = 'gift'`),

    // --- ORDER BY and LIMIT (total orders)
    q(`select id, name from customers order by id`, true),
    q(`select id from customers order by id desc limit 10`, true),
    q(`select id, name from customers order by name, id`, true),
    q(`select id, name from customers order by name desc, id desc limit 20`, true),
    q(`select id, city from customers order by city, id`, true),
    q(`select id, city from customers order by city desc, id`, true),
    q(`select id, balance from customers order by balance, id limit 15`, true),
    q(`select id, balance from customers order by balance desc, id desc limit 5 offset 10`, true),
    q(`select id, credit_limit from customers order by credit_limit desc, id limit 10`, true),
    q(`select id, created_at from customers order by created_at, id limit 10`, true),
    q(`select id, birthday from customers order by birthday desc, id limit 10`, true),
    q(`select id, tier from customers order by tier, id`, true),
    q(`select id, avatar from customers order by avatar, id limit 25`, true),
    q(`select * from customers order by id limit 3`, true),
    q(`select id from customers order by id limit 0`, true),
    q(`select id from customers order by id limit 100000`, true),
    q(`select id, total from orders order by total desc, id limit 10`, true),
    q(`select id, ordered_at from orders order by ordered_at, id limit 10 offset 5`, true),
    q(`select id, note from orders order by note, id limit 30`, true),
    q(`select id, shipped_at from orders order by shipped_at desc, id limit 12`, true),
    q(`select sku, order_id, line_no from order_lines order by sku, order_id, line_no limit 30`, true),
    q(`select order_id, line_no, discount from order_lines order by discount, order_id, line_no limit 20`, true),
    q(`select order_id, line_no, unit_price * quantity as amount from order_lines order by amount desc, order_id, line_no limit 10`, true),
    q(`select id, name from customers where id in (${some}) order by name, id`, true),
    q(`select id from customers order by -id limit 5`, true),
    q(`select id, length(name) as l from customers order by l desc, id limit 10`, true),
    q(`select id, name from customers order by 2, 1 limit 10`, true),
    q(`select id, total from orders where customer_id = ${a} order by total, id`, true),

    // --- aggregates
    q(`select count(*) from customers`),
    q(`select count(*) from orders`),
    q(`select count(*) from order_lines`),
    q(`select count(email), count(city), count(balance), count(avatar) from customers`),
    q(`select sum(balance), min(balance), max(balance), avg(balance) from customers`),
    q(`select sum(credit_limit), avg(credit_limit) from customers`),
    q(`select sum(total), avg(total), min(total), max(total) from orders`),
    q(`select min(name), max(name) from customers where name not like 'al%' and name not like 'zo%' and name not like 'bo%'`),
    q(`select min(created_at), max(created_at), min(birthday), max(birthday) from customers`),
    q(`select min(shipped_at), max(shipped_at) from orders`),
    q(`select sum(quantity), avg(quantity), sum(unit_price * quantity) from order_lines`),
    q(`select count(discount), min(discount), max(discount) from order_lines`),
    q(`select max(id), min(id) from customers`),
    q(`select count(distinct city) from customers`),
    q(`select count(distinct name) from customers`),
    q(`select count(distinct status) from orders`),
    q(`select count(distinct customer_id) from orders`),
    q(`select count(distinct sku) from order_lines`),
    q(`select status, count(*) from orders group by status`),
    q(`select status, count(*), sum(total), min(total), max(total), avg(total) from orders group by status`),
    q(`select count(*) from customers group by city`),
    q(`select count(*), avg(balance) from customers group by city`),
    q(`select count(*) from customers group by name`),
    q(`select tier, count(*) from customers group by tier`),
    q(`select tier, avg(balance), sum(credit_limit) from customers group by tier`),
    q(`select customer_id, count(*), sum(total) from orders group by customer_id`),
    q(`select customer_id, count(*) from order_lines group by customer_id having count(*) > 3`),
    q(`select status, count(*) as c from orders group by status having c > 100`),
    q(`select status, sum(total) as s from orders group by status having sum(total) > 1000 order by s desc, status`, true),
    q(`select year(ordered_at) as y, count(*) from orders group by y order by y`, true),
    q(`select year(ordered_at), month(ordered_at), count(*) from orders group by 1, 2`),
    q(`select count(*), sum(quantity) from order_lines group by sku`),
    q(`select quantity, count(*), sum(unit_price) from order_lines group by quantity`),
    q(`select year(ordered_at), count(*) from orders group by year(ordered_at)`),
    q(`select customer_id, max(ordered_at), min(total) from orders group by customer_id order by customer_id limit 10`, true),
    q(`select count(*) from orders where status = 'paid'`),
    q(`select count(*) from customers where id in (${some})`),
    q(`select avg(balance) from customers where id = ${a}`),
    q(`select count(*), count(distinct customer_id) from orders where total > 100`),
    q(`select status, count(distinct customer_id) from orders group by status`),
    q(`select sum(quantity) from order_lines where customer_id = ${b}`),
    q(`select count(*) from customers where balance is null`),
    q(`select status, avg(total) from orders group by status order by status`, true),
    q(`select count(*) from customers where id = 424242424242`),
    q(`select sum(total) from orders where customer_id = 424242424242`),
    q(`select tier, count(*) as n from customers group by tier order by n desc, tier limit 2`, true),
    q(`select count(*) from orders having count(*) > 5`),
    q(`select tier, count(distinct city), sum(balance) from customers group by tier having count(*) > 1`),
    q(`select customer_id, count(*) * 10 - sum(total) / 2 from orders group by customer_id`),

    // --- DISTINCT
    q(`select distinct status from orders`),
    q(`select distinct tier from customers`),
    q(`select distinct tier from customers order by tier`, true),
    q(`select distinct lower(city) from customers`),
    q(`select distinct hex(upper(name)) from customers`),
    q(`select distinct customer_id from orders`),
    q(`select distinct customer_id from orders order by customer_id limit 10`, true),
    q(`select distinct year(ordered_at) from orders`),
    q(`select distinct quantity from order_lines`),
    q(`select distinct status, year(ordered_at) from orders`),

    // --- UNION and UNION ALL
    q(`select id from customers where id = ${a} union all select id from customers where id = ${b}`),
    q(`select id from customers where id = ${a} union all select id from customers where id = ${a}`),
    q(`select id from customers where id = ${a} union select id from customers where id = ${a}`),
    q(`select id from customers union select customer_id from orders`),
    q(`select id from customers union all select customer_id from orders`),
    q(`select status from orders union select tier from customers`),
    q(`select id from customers where id in (${some}) union all select customer_id from orders where customer_id in (${some})`),
    q(`select 1 as x union all select 1`),
    // Mixed chains: a DISTINCT union dedupes everything to its left; a later ALL part keeps its duplicates.
    q(`select status from orders union select status from orders union all select status from orders`),
    q(`select status from orders union all select status from orders union select tier from customers`),
    q(`select customer_id from orders union all select customer_id from orders union distinct select id from customers union all select customer_id from order_lines`),
    q(`select 1 union select 1 union all select 1`),
    q(`select customer_id from orders where status = 'paid' union select customer_id from orders where status = 'new' order by customer_id`, true),
    q(`(select id from customers order by id limit 3) union all (select id from customers order by id desc limit 3)`),
    q(`select hex(lower(city)) from customers union select hex(lower(note)) from orders`),
    q(`select id from customers where id in (${some}) union select customer_id from orders where status = 'paid' order by 1 desc limit 3 offset 1`, true),
    q(`select id from customers where id = ${a} union all (select customer_id from orders order by customer_id limit 2)`),

    // --- joins co-located on customer_id
    q(`select c.id, c.name, o.id, o.total from customers c join orders o on o.customer_id = c.id where c.id = ${a}`),
    q(`select c.id, o.id, o.status from customers c join orders o on o.customer_id = c.id`),
    q(`select c.id, count(o.id) from customers c left join orders o on o.customer_id = c.id group by c.id`),
    q(`select c.id, o.id from customers c join orders o on o.customer_id = c.id order by c.id, o.id limit 20`, true),
    q(`select count(*) from customers c join orders o on o.customer_id = c.id`),
    q(`select c.id, c.name, sum(l.quantity) from customers c join order_lines l on l.customer_id = c.id group by c.id, c.name`),
    q(`select c.id, o.id from customers c left join orders o on o.customer_id = c.id and o.status = 'paid'`),
    q(`select c.id, o.id, l.line_no from customers c join orders o on o.customer_id = c.id join order_lines l on l.customer_id = o.customer_id and l.order_id = o.id where c.id in (${some})`),
    q(`select c.id, o.id from customers c, orders o where c.id = o.customer_id and c.id in (${some})`),
    q(`select o.id, c.name from orders o join customers c on c.id = o.customer_id where o.status = 'cancelled'`),

    // --- cross-shard joins
    q(`select o.id, l.line_no from orders o join order_lines l on l.order_id = o.id`),
    q(`select o.id, l.line_no, l.sku from orders o join order_lines l on l.order_id = o.id where o.customer_id = ${c}`),
    q(`select c.id, o.id from customers c join orders o on o.id = c.id`),
    q(`select c.id, o.id from customers c left join orders o on o.id = c.id`),
    q(`select c1.id, c2.id from customers c1 join customers c2 on c1.name = c2.name where c1.id = ${d}`),
    q(`select a.id, b.id from customers a join customers b on a.birthday = b.birthday and a.id < b.id`),
    q(`select o.status, count(*) from orders o join order_lines l on l.order_id = o.id group by o.status`),
    q(`select c.id, o.id from customers c join orders o on o.id = c.id order by c.id, o.id limit 5`, true),

    // --- WITH (non-recursive CTEs, planned as the derived tables they name), empty ones included
    q(`with big as (select customer_id, total from orders where total > 500) select count(*), sum(total) from big`),
    q(`with c as (select id, name, city from customers where city is null) select id, name from c`),
    q(`with c as (select id from customers where id = ${a}) select o.id, o.total from orders o join c on o.customer_id = c.id`),
    q(`with o as (select customer_id from orders where status = 'paid'), c as (select id from customers where id in (select customer_id from o)) select count(*) from c`),
    q(`with paid as (select customer_id from orders where status = 'paid') select id from customers where id not in (select customer_id from paid)`),
    q(`with none as (select id, balance from customers where id = 424242424242) select count(*), max(balance) from none`),
    q(`with none as (select customer_id from orders where 1 = 0) select id from customers where id in (${some}) and id not in (select customer_id from none)`),
    q(`with t as (select status, count(*) as n from orders group by status) select status, n from t where n > 10`),

    // --- count over a derived table the gateway evaluates (LIMIT or DISTINCT across shards), NULLs and no rows
    q(`select count(*) from (select id from customers where balance > 0 limit 7) as t`),
    q(`select count(city), count(*) from (select id, city from customers order by id limit 40) as t`),
    q(`select count(*), count(t.note) from (select id, note from orders where status = 'no such status' limit 3) as t`),
    q(`select count(*) as n from (select distinct city from customers) as t`),

    // --- ORDER BY / LIMIT on a parenthesized query (its own ORDER BY without LIMIT changes nothing)
    q(`(select id, name from customers order by name desc) order by id limit 5`, true),
    q(`(select id, city from customers where city is null order by id desc) order by id`, true),

    // --- subqueries
    q(`select id from customers where id in (select customer_id from orders where status = 'cancelled')`),
    q(`select id from customers where id not in (select customer_id from orders)`),
    q(`select id from customers c where exists (select 1 from orders o where o.customer_id = c.id and o.total > 1000)`),
    q(`select id from customers c where not exists (select 1 from orders o where o.customer_id = c.id and o.status = 'paid')`),
    q(`select id from orders where customer_id in (select id from customers where tier = 'gold')`),
    q(`select count(*) from customers where id in (select customer_id from order_lines where quantity = 5)`),
    q(`select id, (select count(*) from orders o where o.customer_id = c.id) as n from customers c where c.id = ${e}`),
    q(`select id from customers where balance > (select avg(balance) from customers)`),
    q(`select * from (select id, name from customers where id = ${a}) as t`),
    q(`select status, n from (select status, count(*) as n from orders group by status) as t where n > 10`),
    q(`select id from customers where id in (select customer_id from orders where id in (select order_id from order_lines where sku = 'x'))`),

    // --- expressions
    q(`select id, balance * 2, balance + credit_limit from customers where id = ${a}`),
    q(`select id, concat(name, '-', ifnull(city, '?')) from customers`),
    q(`select id, coalesce(email, 'none'), upper(name), lower(city) from customers`),
    q(`select id, date_format(ordered_at, '%Y-%m'), datediff(shipped_at, ordered_at) from orders`),
    q(`select id, case when balance > 0 then 'pos' when balance < 0 then 'neg' else 'zero' end as sign from customers`),
    q(`select 1 + 1, 'x', null, 9223372036854775807, 1.50, -0.0`),
    q(`select id, hex(avatar), length(avatar) from customers`),
    q(`select id, round(balance, 1), floor(balance), abs(balance) from customers`),
    q(`select id, total / 3 from orders where customer_id = ${a}`),
    q(`select id, cast(id as char), id + 0, id div 7 from customers`),
    q(`select count(*) * 2 from customers`),
    q(`select sum(total) / count(*) from orders`),
    q(`select max(balance) - min(balance) from customers`),
    q(`select status, count(*) + 1 from orders group by status`),
    q(`select id, name like 'A%' from customers`),
    q(`select order_id, line_no, quantity * unit_price * (1 - ifnull(discount, 0)) from order_lines where customer_id = ${a}`),
    q(`select id, tier + 0, tier = 'gold' from customers`),
    q(`select id, birthday + interval 1 day, created_at - interval 1 hour from customers where id in (${some})`),
  ];
}
