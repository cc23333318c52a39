-- wrk script for POST /feedback: realistic, varied product feedback, so most requests miss the
-- classification cache (1 to 3 of the 200 sentences below, drawn at random: about 8 million texts).
-- Bodies are built once per thread in init(), so wrk's own cost per request stays that of a plain request.
-- The run fails loudly in done() if any response was not 2xx or any socket error happened.

local sentences = {
  "The checkout page froze twice before my payment finally went through.",
  "I love how quickly the app loads on my old phone.",
  "Your support team answered my question within ten minutes, thank you.",
  "The invoice showed a charge I never agreed to.",
  "Delivery was three days late and nobody told me why.",
  "The new dashboard is much easier to read than the old one.",
  "Search results are often irrelevant to what I typed.",
  "I was billed twice for the same monthly subscription.",
  "The dark mode looks great but some icons disappear in it.",
  "Setting up the account took less than five minutes.",
  "The app crashes every time I try to upload a photo.",
  "Customer service was polite but could not solve my problem.",
  "Prices went up again without any notice.",
  "The export to spreadsheet feature saves me hours every week.",
  "I cannot find where to change my password.",
  "The package arrived damaged and the box was soaking wet.",
  "Notifications arrive hours after the event happened.",
  "Great product overall, though the manual is confusing.",
  "The login page keeps saying my password is wrong even after a reset.",
  "I would like an option to pause my subscription for a month.",
  "The courier left the parcel at the wrong address.",
  "Sync between my laptop and phone works flawlessly.",
  "Refund took over six weeks to reach my account.",
  "The calendar integration is exactly what our team needed.",
  "Every update moves the buttons around and I get lost.",
  "The chat widget covers the submit button on small screens.",
  "Fast shipping and the item matched the description perfectly.",
  "I was charged a cancellation fee nobody mentioned at signup.",
  "The reports take almost a minute to generate.",
  "Honestly the best onboarding experience I have had with any software.",
  "The mobile app drains my battery in a couple of hours.",
  "Support closed my ticket without reading it.",
  "The free trial converted to a paid plan without a reminder email.",
  "Filters on the orders page reset whenever I go back.",
  "I appreciate that you kept the old keyboard shortcuts.",
  "The tracking link never showed any updates.",
  "Your pricing page is clear and the plans make sense.",
  "The API returns a server error when the list is empty.",
  "The agent I spoke to was rude and hung up on me.",
  "It is fine, does what it says, nothing special.",
  "The font is too small to read on a tablet.",
  "Two factor authentication codes arrive too late to use.",
  "I got a discount code after complaining, which was a nice touch.",
  "The product stopped working after one week.",
  "Offline mode saved me during a long flight.",
  "The settings page takes forever to save changes.",
  "Our whole team switched to your tool and we are happy.",
  "There is no way to delete my account from the app.",
  "The replacement part arrived the next morning, impressive.",
  "I keep getting logged out every few minutes.",
  "The colours in the charts are hard to tell apart.",
  "Billing support explained the charges clearly and fixed the error.",
  "The order confirmation email never arrived.",
  "Loading times have improved a lot since the last release.",
  "The import tool silently skipped half of my contacts.",
  "I like the product but it is too expensive for a small business.",
  "The website is down more often than it should be.",
  "Your documentation is thorough and the examples actually work.",
  "The scanner feature does not recognise handwritten notes.",
  "The delivery driver was friendly and careful with the package.",
  "I cannot print the invoice, the button does nothing.",
  "The voice assistant misunderstands almost every command.",
  "Customer support in my language would help a lot.",
  "The latest update fixed the crash I reported, thanks.",
  "Shipping costs more than the product itself.",
  "The app asks for permissions it clearly does not need.",
  "Setting up recurring payments was straightforward.",
  "The product photos are misleading, the real item is smaller.",
  "I waited forty minutes on hold before anyone answered.",
  "The team workspace makes collaboration much smoother.",
  "Emails from you always end up in my spam folder.",
  "The return process was painless and the label was prepaid.",
  "Autosave lost an hour of my work yesterday.",
  "Please add an option to export data as PDF.",
  "The new pricing tiers feel like a cash grab.",
  "Everything works, but the interface feels dated.",
  "The smartwatch app is surprisingly useful.",
  "The password reset link expired before I could click it.",
  "The store pickup option was quick and convenient.",
  "My order was cancelled without any explanation.",
  "The tutorial videos are short and to the point.",
  "The keyboard on the edit screen lags behind my typing.",
  "Your loyalty programme rewards are actually worth it.",
  "The coupon code was rejected at checkout.",
  "Performance on large projects is excellent.",
  "The help centre articles are outdated and show old screens.",
  "I received someone else's order.",
  "The app remembers my preferences between devices, very handy.",
  "Contacting support requires too many steps.",
  "The device overheats after thirty minutes of use.",
  "Very happy with the build quality of the headphones.",
  "The monthly report email has broken images.",
  "I was promised a call back that never came.",
  "The new search bar finds things instantly.",
  "The bill included taxes that do not apply in my country.",
  "Setup instructions were missing from the box.",
  "Dragging files into the window works smoothly now.",
  "The app does not work at all on my tablet.",
  "Your team went above and beyond to fix my account.",
  "The subscription renewal price was higher than advertised.",
  "The map shows my delivery in another city.",
  "Integration with our accounting software is seamless.",
  "The error messages do not tell me what went wrong.",
  "I like the product, but delivery options are limited.",
  "Payment failed three times with a valid card.",
  "Fantastic value for the price.",
  "The screen flickers when I scroll through long lists.",
  "The live chat agent solved my issue in minutes.",
  "I have been charged after cancelling my plan.",
  "The onboarding emails are too frequent.",
  "Battery life is better than the previous model.",
  "The order history page is empty even though I ordered last week.",
  "The new logo looks nice.",
  "Uploading large files fails without an error.",
  "The staff at the repair desk were knowledgeable and kind.",
  "I need invoices with my company VAT number on them.",
  "The software keeps asking me to update, even right after updating.",
  "Packaging was eco friendly, which I really appreciate.",
  "The speaker crackles at high volume.",
  "Response times from support have gotten much worse this year.",
  "The budgeting feature helped me save money this month.",
  "The product page lists features that do not exist.",
  "I had no trouble at all migrating from my old provider.",
  "The link in the welcome email is broken.",
  "The app is fine but the ads are annoying.",
  "I was overcharged for express shipping that arrived late.",
  "Keyboard navigation works well with my screen reader.",
  "The sizes run small, order one size up.",
  "The weekly summary is useful but arrives on the wrong day.",
  "Two items were missing from my parcel.",
  "The security settings are clear and easy to manage.",
  "Nobody replied to my email for over a week.",
  "The sound quality on calls is crystal clear.",
  "The upgrade wiped my saved templates.",
  "Checkout was smooth and the receipt came right away.",
  "I cannot change the delivery date after ordering.",
  "The product feels cheap compared to the photos.",
  "Your engineers fixed the sync bug very fast.",
  "The trial is too short to evaluate the product properly.",
  "The barcode scanner is fast and accurate.",
  "Some pages load in English even though I chose German.",
  "I appreciate the transparent refund policy.",
  "The app freezes when switching between accounts.",
  "Customer support offered a workaround that actually worked.",
  "The annual plan discount is not applied at checkout.",
  "The new layout wastes a lot of screen space.",
  "Order arrived a day early, nicely done.",
  "The reminders feature is unreliable.",
  "Exporting to CSV mangles accented characters.",
  "The community forum is full of helpful people.",
  "I was not told the item was back ordered.",
  "The charger stopped working after a month.",
  "Password rules are so strict that I cannot remember my password.",
  "Really intuitive design, my parents could use it.",
  "The bill shows the wrong billing address.",
  "I could not reach anyone by phone on the weekend.",
  "The performance dashboard is slow with more than a few users.",
  "The gift wrapping was beautiful.",
  "The app sends notifications in the middle of the night.",
  "The product does exactly what I needed, no more, no less.",
  "Your website does not accept my postal code.",
  "The quick start guide got me going in minutes.",
  "Support transferred me four times.",
  "The video calls drop every ten minutes.",
  "It would be nice to have a family plan.",
  "I am disappointed that the feature I paid for was removed.",
  "Courier was polite and on time.",
  "The graphs do not update until I refresh the page.",
  "Cancellation was easy and there was no pressure to stay.",
  "The zipper broke the first time I used the bag.",
  "The new permissions model is confusing for admins.",
  "Great experience, I have already recommended you to friends.",
  "The invoice PDF is missing the line items.",
  "The headset is comfortable for long meetings.",
  "Search does not find items with hyphens in their names.",
  "The warranty claim process was quick and fair.",
  "My points balance disappeared after the update.",
  "The printer setup wizard failed on every step.",
  "I like the colour options available.",
  "The delivery window of eight hours is too wide.",
  "Your privacy policy is clear and readable.",
  "The sidebar keeps collapsing on its own.",
  "Refund was processed the same day, thank you.",
  "The app still does not support landscape mode.",
  "Prices are fair and the quality is consistent.",
  "The confirmation code never arrives by text message.",
  "Team admins cannot see who has access to which project.",
  "The repair took three weeks longer than promised.",
  "The recipes in the app are varied and easy to follow.",
  "I would pay more for priority support.",
  "The product arrived without the promised accessories.",
  "Dark mode finally works on every page, great job.",
  "The chatbot keeps sending me in circles.",
  "Installation took hours because of missing drivers.",
  "Your staff made the return feel effortless.",
  "The filters on the product list do not combine correctly.",
  "I had a mixed experience: great product, terrible delivery.",
  "The sound notifications cannot be turned off.",
  "The new version is noticeably faster on my old laptop.",
  "The label printer jams whenever I print more than ten labels.",
}

local pool_size = 20000
local bodies = {}
local counter = 0

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

-- With BENCH_COUNT_METHOD=1 (the LLM checks), every response body is read and counted by status 201 and
-- by "processing_method" ("ai" or "ml_fallback") and "status" ("provisional"). Off otherwise: wrk then
-- skips the per-response callback and its cost.
if os.getenv("BENCH_COUNT_METHOD") == "1" then
  created, ai, ml_fallback, provisional = 0, 0, 0, 0
  function response(status, headers, body)
    if status == 201 then created = created + 1 end
    if body:find('"processing_method":"ai"', 1, true) then ai = ai + 1
    elseif body:find('"processing_method":"ml_fallback"', 1, true) then ml_fallback = ml_fallback + 1 end
    if body:find('"status":"provisional"', 1, true) then provisional = provisional + 1 end
  end
end

function init(args)
  math.randomseed(1000 + (id or 0))
  local key = os.getenv("API_KEY") or error("API_KEY is not set")
  wrk.headers["X-API-Key"] = key
  wrk.headers["Content-Type"] = "application/json"
  for i = 1, pool_size do
    local parts = {}
    for j = 1, math.random(1, 3) do
      parts[j] = sentences[math.random(#sentences)]
    end
    bodies[i] = wrk.format("POST", "/feedback", nil, '{"text":' .. json_string(table.concat(parts, " ")) .. '}')
  end
end

function request()
  return bodies[math.random(pool_size)]
end

function done(summary, latency, requests)
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), e.status, socket_errors))
  if os.getenv("BENCH_COUNT_METHOD") == "1" then
    local sums = { created = 0, ai = 0, ml_fallback = 0, provisional = 0 }
    for _, thread in ipairs(threads) do
      for name in pairs(sums) do sums[name] = sums[name] + (thread:get(name) or 0) end
    end
    io.write(string.format("COUNTS created=%d ai=%d ml_fallback=%d provisional=%d\n",
      sums.created, sums.ai, sums.ml_fallback, sums.provisional))
  end
  if e.status > 0 or socket_errors > 0 then
    io.stderr:write(string.format("FAILED: %d non-2xx responses and %d socket errors\n", e.status, socket_errors))
  end
end
