"""Write data/imitation/train.jsonl: a small SFT set of instructions with responses in the same
assistant "teacher" style as reference.jsonl (standard library only).

Fine-tuning on it should move a model's style (lists, bold labels, some hedging, polite
refusals, length) towards the reference responses' on the imitation panel (DESIGN §5), as
imitation fine-tuning does in Gudibande et al. (2023). The six groups and their proportions are
the reference set's (explain, howto, advice, compare, creative, refuse: 5:5:4:4:4:2), four times
over. Every prompt is held out from the evaluation: none equals or nearly equals a prompt of
data/imitation/reference.jsonl, data/chats/chats.jsonl or data/ifeval/input_data.jsonl
(tests/test_sample_data_imitation.py checks this). The refusals say "I'm sorry, but ..." or
"I won't ...", which the style statistics count as refusals and which the default quality
filters (conf/filters/default.yaml) keep; "I can't help ..." would be dropped as boilerplate.
Everything was written for lessmore. Output is byte-identical on every run; edit the list below.

    python data/imitation/make_train.py
"""

import json
from pathlib import Path

OUT = Path(__file__).with_name("train.jsonl")
SOURCE = "sample-teacher"

# (group, prompt, teacher response)
TRAIN = [
    # --- explain ----------------------------------------------------------------------------
    ("explain", "Why does bread go stale?",
     "Stale bread is less about drying out than about starch changing its structure.\n\n"
     "- Baking makes starch granules absorb water and soften.\n- As the loaf sits, the starch "
     "slowly recrystallises and squeezes water out.\n- The crumb turns firm, and the crust "
     "often goes leathery as it takes up that moisture.\n\n"
     "This happens fastest at fridge temperatures, so bread generally keeps better at room "
     "temperature or frozen."),
    ("explain", "How does a microwave oven heat food?",
     "A microwave oven heats food by making its water molecules move.\n\n"
     "1. **Magnetron:** a tube produces microwaves, a type of radio wave.\n2. **Reflection:** "
     "the metal walls bounce the waves around inside.\n3. **Absorption:** water molecules keep "
     "turning to follow the rapidly flipping field, and that jostling produces heat.\n"
     "4. **Conduction:** the centre warms as heat spreads inward.\n\n"
     "That is why stirring halfway through helps food heat evenly."),
    ("explain", "What causes thunder?",
     "Thunder is the sound of air being heated suddenly by lightning.\n\n"
     "- A lightning bolt heats the air around it to roughly 30,000 °C in a split second.\n"
     "- The hot air expands so fast that it creates a shock wave.\n- That shock wave reaches us "
     "as the crack and rumble we hear.\n\n"
     "Light travels much faster than sound, so you see the flash first. Divide the seconds "
     "until the thunder by three for a rough distance in kilometres."),
    ("explain", "Why do heavy steel ships float?",
     "A ship floats because it pushes aside a weight of water equal to its own weight "
     "(Archimedes' principle).\n\n"
     "- **Shape matters:** a steel block sinks, but the same steel shaped into a hull encloses "
     "a large volume of air.\n- **Average density:** hull plus air is less dense overall than "
     "water.\n- **Displacement:** the ship settles until the water it pushes aside weighs as "
     "much as the ship.\n\n"
     "If the hull fills with water, it sinks."),
    ("explain", "What happens during a solar eclipse?",
     "A solar eclipse happens when the Moon passes between the Sun and the Earth and casts its "
     "shadow on part of our planet.\n\n"
     "- **Total:** the Moon covers the whole Sun and the sky goes dark for a few minutes.\n"
     "- **Partial:** only part of the Sun is covered.\n- **Annular:** the Moon is too far away "
     "to cover the Sun fully, leaving a bright ring.\n\n"
     "Never look at the Sun without certified eclipse glasses, even when most of it is "
     "hidden."),
    ("explain", "How do bees turn nectar into honey?",
     "Bees make honey by collecting nectar and removing most of its water.\n\n"
     "1. A forager sucks up nectar and stores it in its honey stomach.\n2. The bee's enzymes "
     "start breaking sucrose into simpler sugars.\n3. At the hive, house bees place the nectar "
     "in wax cells.\n4. They fan their wings to evaporate water until the honey is thick.\n"
     "5. They seal each cell with a wax cap.\n\n"
     "With so little water in it, honey keeps for a very long time."),
    ("explain", "What is the greenhouse effect?",
     "The greenhouse effect is the way certain gases trap heat and keep the Earth warmer than "
     "it would otherwise be.\n\n"
     "- Sunlight warms the ground and the oceans.\n- The warm surface gives off infrared "
     "radiation.\n- Water vapour, carbon dioxide and methane absorb some of it and send part "
     "back down.\n\n"
     "Without this natural effect, the average temperature would be about -18 °C instead of "
     "15 °C. Adding more of these gases strengthens it, which drives today's global warming."),
    ("explain", "Why does the Moon seem to change shape over a month?",
     "The Moon does not change shape; we see different amounts of its sunlit half as it "
     "orbits us.\n\n"
     "- The Sun always lights one half of the Moon.\n- Over about 29.5 days, its position "
     "relative to the Sun and the Earth changes.\n- At **new moon** the lit side faces away; "
     "at **full moon** it faces us completely.\n\n"
     "A common myth is that the Earth's shadow causes the phases, but that only happens in a "
     "lunar eclipse."),
    ("explain", "How does a magnetic compass find north?",
     "A compass works because the Earth behaves like a giant magnet.\n\n"
     "- The needle is a small magnet that can spin freely.\n- Its north-seeking end lines up "
     "with the Earth's magnetic field.\n- It points to the magnetic north pole, which is not "
     "quite the geographic North Pole.\n\n"
     "The difference, called declination, varies from place to place, so hikers often correct "
     "for it. Keep phones and metal away, as they can pull the needle off course."),
    ("explain", "What is an index fund?",
     "An index fund is an investment fund that tries to match a market index rather than beat "
     "it.\n\n"
     "- **How it works:** it holds the shares in an index, such as the S&P 500, in roughly the "
     "same proportions.\n- **Low cost:** nobody picks stocks, so fees are usually low.\n"
     "- **Diversification:** one fund spreads your money over many companies.\n\n"
     "Its value still rises and falls with the market, so it is generally a long-term "
     "investment."),
    ("explain", "Why do my ears pop on a plane?",
     "Your ears pop when the pressure on both sides of the eardrum evens out.\n\n"
     "1. As the plane climbs or descends, cabin pressure changes.\n2. The air in your middle "
     "ear stays at the old pressure, so the eardrum bulges slightly.\n3. The Eustachian tube "
     "opens, lets air through and balances the pressure.\n4. That sudden adjustment is the "
     "pop.\n\n"
     "Swallowing, yawning or chewing gum usually helps the tube open."),
    ("explain", "How do glasses correct blurry vision?",
     "Glasses bend light so that it focuses exactly on the retina.\n\n"
     "- **Short-sightedness:** light focuses in front of the retina, so a concave lens spreads "
     "it slightly.\n- **Long-sightedness:** the focus falls behind the retina, so a convex lens "
     "bends light inward.\n- **Astigmatism:** an unevenly curved cornea blurs in one "
     "direction, which a cylindrical lens corrects.\n\n"
     "Your prescription may change over the years, so regular eye tests help."),
    ("explain", "Why is seawater salty?",
     "Seawater is salty because rivers have carried dissolved minerals into the oceans for "
     "hundreds of millions of years.\n\n"
     "- Slightly acidic rain slowly wears down rocks on land.\n- Rivers wash minerals such as "
     "sodium and chloride out to sea.\n- When seawater evaporates, the salts stay behind.\n\n"
     "About 3.5 percent of seawater's weight is dissolved salt, which is why it is unsafe to "
     "drink."),
    ("explain", "How does a phone touchscreen know where I tap?",
     "Most phones use a capacitive touchscreen, which senses the electrical effect of your "
     "finger.\n\n"
     "1. A transparent grid of conductive lines sits under the glass.\n2. The grid holds a "
     "tiny, even electric field.\n3. Your fingertip conducts, so touching the glass changes the "
     "field at that spot.\n4. A chip finds where the change is largest and reports the "
     "position.\n\n"
     "That is why ordinary gloves usually do not work."),
    ("explain", "What is an allergy?",
     "An allergy is the immune system overreacting to something normally harmless, such as "
     "pollen or peanuts.\n\n"
     "- On first contact, the body may make antibodies against it.\n- Later contact makes "
     "cells release histamine and other chemicals.\n- That causes sneezing, itching, hives or "
     "swelling.\n\n"
     "Most allergies are mild, but a severe reaction (anaphylaxis) can affect breathing and "
     "needs emergency help at once."),
    ("explain", "How does a hot air balloon go up and down?",
     "A hot air balloon rises because hot air is lighter than the cooler air around it.\n\n"
     "- **Up:** a propane burner heats the air inside the envelope.\n- **Down:** the pilot "
     "lets the air cool or opens a vent at the top.\n- **Steering:** there is none as such; "
     "pilots change height to catch winds blowing in different directions.\n\n"
     "Calm mornings and evenings are usually the best times to fly."),
    ("explain", "What is a sourdough starter?",
     "A sourdough starter is a live mixture of flour and water full of wild yeast and "
     "bacteria.\n\n"
     "- **Wild yeast** produces carbon dioxide, which makes the dough rise.\n- **Lactic acid "
     "bacteria** produce acids that give the tangy flavour.\n- **Regular feeding** with flour "
     "and water keeps both active.\n\n"
     "A new starter takes one to two weeks to become strong enough to bake with, and a "
     "well-kept one can last for years."),
    ("explain", "Why do people get goosebumps?",
     "Goosebumps appear when tiny muscles at the base of your hairs tighten.\n\n"
     "- Each hair has a small muscle, the arrector pili.\n- Cold, fear or strong emotion makes "
     "these muscles contract.\n- The hairs stand up and the skin around them bumps up.\n\n"
     "In furry animals this fluffs up the coat for warmth or to look bigger; in humans it is "
     "probably a leftover from our ancestors."),
    ("explain", "How does GPS work out my location?",
     "GPS works by timing signals from satellites.\n\n"
     "1. About 30 satellites orbit the Earth, each with a precise atomic clock.\n2. They "
     "broadcast their position and the exact time.\n3. Your phone measures how long each "
     "signal took and turns that into a distance.\n4. With at least four satellites, it can "
     "calculate where it is.\n\n"
     "Under open sky this is often accurate to a few metres."),
    ("explain", "What is a food chain?",
     "A food chain shows who eats whom in an ecosystem, and how energy passes along.\n\n"
     "- **Producers:** plants and algae make food from sunlight.\n- **Herbivores,** such as "
     "rabbits, eat the plants.\n- **Predators,** such as foxes, eat the herbivores.\n"
     "- **Decomposers:** fungi and bacteria return nutrients to the soil.\n\n"
     "Only about a tenth of the energy passes up each step, so there are usually far fewer "
     "predators than plants."),
    # --- howto ------------------------------------------------------------------------------
    ("howto", "How do I hang a picture frame so it is level?",
     "A little measuring up front saves extra holes in the wall.\n\n"
     "1. Aim for the centre of the picture at about eye level, roughly 145 to 150 cm up.\n"
     "2. Measure from the top of the frame to the hanging point, wire pulled tight.\n3. Mark "
     "the nail position in pencil and check for pipes or cables.\n4. Put in the hook, hang "
     "the picture and adjust it with a spirit level.\n\n"
     "Heavy frames usually need wall plugs or two hooks."),
    ("howto", "What's the easiest way to back up the photos on my phone?",
     "The simplest option is to let a cloud service copy them automatically.\n\n"
     "- **Cloud:** turn on iCloud Photos on an iPhone or Google Photos on Android.\n"
     "- **Computer:** copy the photo folder across with a cable every month or so.\n"
     "- **External drive:** keep a second copy on a USB stick or hard disk.\n\n"
     "Keeping two copies in different places is a good rule, since any single one might "
     "fail."),
    ("howto", "Can you walk me through making pour-over coffee?",
     "Pour-over takes about four minutes and gives a clean, bright cup.\n\n"
     "1. Heat water to just off the boil.\n2. Rinse the paper filter with hot water and "
     "discard it.\n3. Add about 15 g of medium-fine coffee for 250 ml of water.\n4. Pour in "
     "twice the coffee's weight in water and wait 30 seconds.\n5. Pour the rest slowly in "
     "small circles.\n\n"
     "If it tastes bitter, grind coarser; if sour or weak, grind finer."),
    ("howto", "How do I sharpen a knife on a whetstone?",
     "## Prepare the stone\n"
     "Soak it if the maker says so, and set it on a damp towel so it cannot slide.\n\n"
     "## Sharpen\n"
     "- Start on the coarse side.\n- Hold the blade at 15 to 20 degrees.\n- Stroke from heel "
     "to tip until you feel a slight burr on the other side.\n- Repeat on the second side, "
     "then on the fine side.\n\n"
     "## Finish\n"
     "Rinse and dry the knife, keeping your fingers clear of the edge."),
    ("howto", "How do I iron a shirt?",
     "Check the care label for the heat setting, then work in this order:\n\n"
     "1. **Collar:** both sides, from the points inward.\n2. **Cuffs:** open them and iron "
     "them flat.\n3. **Sleeves:** lay each flat along the seam and press.\n4. **Back and "
     "front:** the back first, then each front panel, around the buttons.\n\n"
     "A slightly damp shirt is much easier to iron. Hang it up straight away."),
    ("howto", "How do I write a clear subject line for a work email?",
     "A good subject line says what the email is about and what you need.\n\n"
     "- **Be specific:** \"Budget review moved to Thursday\" beats \"Update\".\n- **Put key "
     "words first,** since phones often cut off long subjects.\n- **Add any deadline,** such "
     "as \"Please approve by Friday\".\n- **Keep it short,** ideally under eight words.\n\n"
     "If the topic changes in a thread, update the subject too."),
    ("howto", "How do I fold a classic paper airplane?",
     "Here is the classic dart, from one sheet of A4 or letter paper:\n\n"
     "1. Fold the paper in half lengthwise and open it again.\n2. Fold the top corners in to "
     "the centre line.\n3. Fold the new slanted edges to the centre line again.\n4. Fold the "
     "plane in half along the first crease.\n5. Fold each side down to form the wings.\n\n"
     "Throw it level and gently; a hard throw usually makes it dive."),
    ("howto", "How do I remove a splinter?",
     "Most small splinters are easy to take out at home:\n\n"
     "1. Wash your hands and the area with soap and water.\n2. Clean tweezers with rubbing "
     "alcohol.\n3. Grip the end and pull gently at the angle it went in.\n4. Wash the spot "
     "again and cover it if needed.\n\n"
     "See a doctor if the splinter is deep or near the eye, or if the area turns red, swollen "
     "or painful, as it may be infected."),
    ("howto", "How do I make overnight oats?",
     "Overnight oats take five minutes the evening before:\n\n"
     "1. In a jar, mix half a cup of rolled oats with half a cup of milk.\n2. Stir in a "
     "spoonful of yoghurt and some chia seeds if you like.\n3. Sweeten with a little honey.\n"
     "4. Cover and refrigerate for at least six hours.\n5. Top with fruit or nuts in the "
     "morning.\n\n"
     "They generally keep for up to three days in the fridge."),
    ("howto", "How do I clean a shower head covered in limescale?",
     "White vinegar dissolves limescale with very little effort.\n\n"
     "1. Fill a plastic bag with white vinegar.\n2. Tie it over the shower head so the "
     "nozzles are submerged.\n3. Leave it for an hour, or overnight for heavy build-up.\n"
     "4. Remove the bag and run hot water through it.\n5. Brush off any remaining spots with "
     "an old toothbrush.\n\n"
     "Keep the soak short on brass or nickel finishes, since vinegar may dull them."),
    ("howto", "How can I take better photos with my phone?",
     "A few simple habits make a big difference:\n\n"
     "- **Clean the lens:** smudges cause hazy photos.\n- **Use natural light:** face your "
     "subject towards a window.\n- **Turn on the grid** and follow the rule of thirds.\n"
     "- **Tap to focus** on your subject.\n- **Skip digital zoom:** walk closer instead, "
     "because zooming often blurs the image.\n\n"
     "Take several shots so you have more to choose from."),
    ("howto", "How do I learn to juggle three balls?",
     "## Step 1: one ball\n"
     "Toss one ball from hand to hand in an arc peaking just above eye level.\n\n"
     "## Step 2: two balls\n"
     "- Hold one ball in each hand.\n- Throw the first; as it peaks, throw the second.\n"
     "- Practise until the rhythm feels steady.\n\n"
     "## Step 3: three balls\n"
     "Start with two in one hand and keep the same pattern.\n\n"
     "Expect lots of drops; practising over a bed saves bending down."),
    ("howto", "How do I descale an electric kettle?",
     "Descaling every month or two keeps a kettle working well in hard-water areas.\n\n"
     "1. Half-fill it with equal parts white vinegar and water.\n2. Bring it to the boil and "
     "switch it off.\n3. Leave it for 30 to 60 minutes.\n4. Pour it away and rinse well.\n"
     "5. Boil fresh water once or twice and discard it.\n\n"
     "Citric acid dissolved in water works too and usually smells less."),
    ("howto", "How do I plant a young tree in my garden?",
     "## Planting\n"
     "1. Dig a hole two to three times as wide as the root ball, but no deeper.\n2. Tease out "
     "any circling roots.\n3. Set the tree so the base of the trunk sits at ground level.\n"
     "4. Refill with the soil you dug out and firm it gently.\n\n"
     "## Aftercare\n"
     "Water deeply, add a ring of mulch that does not touch the trunk, and keep watering "
     "through the first dry summer."),
    ("howto", "How do I make a grilled cheese sandwich?",
     "You need two slices of bread, butter and a good melting cheese such as cheddar.\n\n"
     "1. Butter one side of each slice.\n2. Put one slice butter-side down in a pan and cover "
     "it with cheese.\n3. Top with the other slice, butter-side up.\n4. Cook over medium-low "
     "heat for 3 to 4 minutes, until golden.\n5. Flip and cook until the cheese melts.\n\n"
     "Low heat is the secret: too hot, and the bread burns first."),
    ("howto", "How do I wrap a present neatly?",
     "Boxes are easiest, so put awkward gifts in one if you can.\n\n"
     "1. Cut paper to go around the box with a little overlap.\n2. Leave a bit more than half "
     "the box's height spare at each end.\n3. Fold the top edge under for a clean line, wrap "
     "and tape.\n4. At the ends, fold the sides in, then the flaps up and down.\n5. Crease "
     "every edge with a fingernail.\n\n"
     "Double-sided tape usually looks neatest, because it stays hidden."),
    ("howto", "How can I make cut flowers last longer?",
     "With a little care, most bouquets stay fresh for a week or more.\n\n"
     "- **Trim the stems** at an angle before putting them in water.\n- **Remove leaves** "
     "below the water line, since they rot.\n- **Change the water** every two days.\n- **Add "
     "flower food,** which slows bacteria.\n- **Keep them cool,** away from sun, radiators and "
     "fruit bowls.\n\n"
     "Ripening fruit gives off ethylene gas, which makes flowers wilt faster."),
    ("howto", "How do I start composting at home?",
     "Composting turns kitchen and garden waste into rich soil.\n\n"
     "## What to add\n"
     "- **Greens:** vegetable peelings, coffee grounds, grass cuttings.\n- **Browns:** dry "
     "leaves, cardboard, straw.\n- Roughly two or three parts browns to one part greens.\n\n"
     "## Looking after it\n"
     "Keep it as damp as a wrung-out sponge and turn it every week or two. Leave out meat and "
     "dairy, which attract pests.\n\n"
     "Compost is generally ready within a year."),
    ("howto", "How do I get rid of fruit flies in my kitchen?",
     "Fruit flies breed quickly, so remove what attracts them and trap the rest.\n\n"
     "- **Clear the food:** put ripe fruit in the fridge and empty the bin.\n- **Clean up:** "
     "rinse bottles and wipe sticky spills.\n- **Set a trap:** cider vinegar in a jar with a "
     "drop of washing-up liquid, covered with pierced cling film.\n\n"
     "The soap breaks the surface tension, so flies that land sink. Most infestations "
     "probably clear within a week."),
    ("howto", "How do I jump-start a car with a flat battery?",
     "You need jumper cables and a car with a working battery; check the owner's manual "
     "first.\n\n"
     "1. Switch both engines off.\n2. Connect red to the flat battery's positive (+), then "
     "red to the good battery's positive.\n3. Connect black to the good battery's negative "
     "(-).\n4. Clip the last black clamp to bare metal on the flat car's engine, away from "
     "its battery.\n5. Start the working car, wait a few minutes, then start the other.\n\n"
     "Remove the clamps in reverse order."),
    # --- advice -----------------------------------------------------------------------------
    ("advice", "How can I stop procrastinating?",
     "Procrastination is usually about how a task feels, so make starting easier.\n\n"
     "- **Shrink the first step:** open the file and write one heading.\n- **Use a timer:** "
     "work for 25 minutes, then take a short break.\n- **Remove distractions:** put your phone "
     "in another room.\n- **Share a deadline** with someone.\n\n"
     "Be kind to yourself when you slip; guilt often makes the next start harder."),
    ("advice", "I start a new job on Monday. How can I make a good first impression?",
     "Congratulations! The first weeks are mostly about being reliable and curious.\n\n"
     "- **Learn names** and arrive a little early.\n- **Ask questions:** people generally "
     "prefer that to guessing.\n- **Take notes** so you only ask each thing once.\n- **Offer "
     "help** with small tasks.\n\n"
     "Nobody expects you to know everything yet, so focus on listening and learning."),
    ("advice", "How do I make friends after moving to a new city?",
     "Making friends as an adult takes effort, and regular contact helps most.\n\n"
     "1. Join a weekly activity, such as a sports club, choir or language class.\n2. Say yes "
     "to invitations for the first few months.\n3. Volunteer for a local cause.\n4. Suggest a "
     "specific plan, like coffee on Saturday, not \"we should meet sometime\".\n\n"
     "It might take a while for acquaintances to become friends, and that is normal."),
    ("advice", "What should I check before buying a used car?",
     "A careful check can save you from expensive surprises.\n\n"
     "- **Paperwork:** the service history and a vehicle history check.\n- **Bodywork:** "
     "rust, uneven panel gaps, mismatched paint.\n- **Tyres:** uneven wear may point to "
     "alignment problems.\n- **Test drive:** odd noises, smooth brakes and gears.\n\n"
     "If you are unsure, pay an independent mechanic to inspect it before you buy."),
    ("advice", "I drink too much coffee. How can I cut down?",
     "Cutting down gradually is usually easier than stopping at once.\n\n"
     "1. Count your cups on a typical day.\n2. Drop one cup every few days.\n3. Swap some for "
     "decaf.\n4. Keep water nearby, since thirst can feel like a craving.\n5. Have your last "
     "cup before lunch to protect your sleep.\n\n"
     "Mild headaches may appear for a few days, but they pass."),
    ("advice", "How can I keep my houseplants alive while I'm on holiday?",
     "## Before you leave\n"
     "- Water everything well the day before.\n- Move plants away from sunny windows.\n"
     "- Group them together to keep the air more humid.\n\n"
     "## While you are away\n"
     "For a week or two that is usually enough. For longer trips, a cotton wick from a bowl of "
     "water helps, or ask a neighbour.\n\n"
     "Succulents can often go a month without water."),
    ("advice", "How should I ask my manager for a pay rise?",
     "Preparation makes the conversation much easier.\n\n"
     "1. **Research** what similar roles pay.\n2. **List your achievements** and new "
     "responsibilities.\n3. **Pick your timing,** such as just after a success.\n4. **Ask for "
     "a specific figure** and explain why.\n5. **Stay calm** if the answer is \"not yet\": ask "
     "what you would need to achieve.\n\n"
     "Request a short meeting rather than raising it in passing."),
    ("advice", "How can I spend less time scrolling on my phone?",
     "Small changes to your phone's setup make a big difference.\n\n"
     "- **Check your screen time** to see which apps take the most.\n- **Turn off** "
     "notifications you do not need.\n- **Move tempting apps** off the home screen.\n- **Set "
     "app limits** in the settings.\n- **Charge it outside the bedroom.**\n\n"
     "Replacing scrolling with something specific, like a book by the sofa, probably works "
     "better than willpower."),
    ("advice", "My teenage son and I keep arguing. How can we talk more calmly?",
     "That is a common and stressful phase, and small changes can help.\n\n"
     "- **Choose the moment:** avoid serious talks when either of you is tired.\n- **Listen "
     "first:** let him finish, then repeat back what you heard.\n- **Use \"I\" statements,** "
     "such as \"I worry when you come home late\".\n- **Pick your battles.**\n\n"
     "If arguments stay intense, a family counsellor might help you both."),
    ("advice", "How can I keep a small kitchen organised?",
     "In a small kitchen, use the walls and keep only what you really use.\n\n"
     "Give away duplicate gadgets and pans you rarely touch. Add shelves, hooks or a magnetic "
     "knife strip so tools hang up instead of crowding the counter, and keep everyday items "
     "within easy reach.\n\n"
     "Clear containers show your dry goods at a glance, and a quick tidy after each meal keeps "
     "the counters clear."),
    ("advice", "How can I stay motivated to exercise regularly?",
     "Motivation comes and goes, so build a habit that does not depend on it.\n\n"
     "## Make it easy\n"
     "- Choose an activity you enjoy.\n- Start small, such as 15 minutes three times a week.\n"
     "\n## Make it stick\n"
     "- Find a friend or a class.\n- Track your sessions.\n\n"
     "Missing one session is fine; the key is probably to avoid missing two in a row."),
    ("advice", "I have a ten-hour flight coming up. How can I make it more comfortable?",
     "A little planning makes a long flight much more bearable.\n\n"
     "- **Seat:** an aisle to stretch your legs, a window to sleep.\n- **Comfort:** a neck "
     "pillow, an eye mask, earplugs and warm layers.\n- **Hydration:** drink water and go easy "
     "on alcohol.\n- **Movement:** walk the aisle every hour or two.\n\n"
     "Downloading films or podcasts beforehand also makes the time pass faster."),
    ("advice", "How can I become a better listener?",
     "Good listening is a skill, and it improves with practice.\n\n"
     "Give the other person your full attention: put your phone away and make eye contact. "
     "Try not to plan your reply while they talk. Ask open questions, and sum up what you "
     "heard to check you understood.\n\n"
     "People often just want to feel heard, so resist the urge to fix the problem straight "
     "away."),
    ("advice", "How can I waste less food at home?",
     "A lot of food waste comes from buying too much and forgetting what is in the fridge.\n\n"
     "1. Check the fridge before shopping and write a list.\n2. Move older items to the "
     "front.\n3. Remember that \"use by\" is about safety, \"best before\" about quality.\n"
     "4. Plan one leftovers meal a week.\n5. Freeze bread or bananas before they spoil.\n\n"
     "This might save money as well as food."),
    ("advice", "How can I make my small flat feel bigger?",
     "A few design tricks can make a small space feel more open:\n\n"
     "- **Light colours** on the walls reflect light.\n- **Mirrors** opposite a window bounce "
     "daylight around.\n- **Furniture with legs** shows more floor.\n- **Multi-purpose "
     "pieces,** such as a bed with drawers, reduce clutter.\n\n"
     "Generally, less visible clutter does more than any single piece of furniture."),
    ("advice", "How can I keep my heating bills down in winter?",
     "Keeping heat in is usually cheaper than producing more of it.\n\n"
     "- **Seal draughts** around doors and windows.\n- **Close the curtains** at dusk.\n"
     "- **Turn the thermostat down** a degree; you will probably barely notice.\n- **Heat "
     "only the rooms you use.**\n- **Bleed radiators** that are cold at the top.\n\n"
     "A warm jumper indoors helps more than people expect."),
    # --- compare ----------------------------------------------------------------------------
    ("compare", "How can I tell a frog from a toad?",
     "Toads are actually a kind of frog, but the names usually point to a few differences:\n\n"
     "- **Skin:** frogs are smooth and moist; toads are dry and bumpy.\n- **Legs:** frogs have "
     "long back legs for jumping; toads have shorter ones and tend to walk or hop.\n"
     "- **Habitat:** frogs generally stay near water; toads cope with drier places.\n\n"
     "There are exceptions, so these are rules of thumb."),
    ("compare", "What is the difference between a rabbit and a hare?",
     "They are close relatives, but they differ in several ways:\n\n"
     "- **Size:** hares are larger, with longer ears and legs.\n- **Babies:** young hares are "
     "born furred with open eyes; baby rabbits are born hairless and blind.\n- **Homes:** "
     "European rabbits dig burrows, while hares rest in hollows above ground.\n\n"
     "Pet rabbits descend from the European rabbit; hares have never been domesticated."),
    ("compare", "What is the difference between a star and a planet?",
     "The main difference is where their light comes from.\n\n"
     "- **Stars** are huge balls of hot gas that make their own light through nuclear fusion. "
     "The Sun is a star.\n- **Planets** are much smaller bodies that orbit a star and shine "
     "only by reflecting its light.\n\n"
     "A handy clue at night: stars usually twinkle, while planets shine more steadily."),
    ("compare", "Are LED bulbs better than old incandescent bulbs?",
     "For most uses, yes:\n\n"
     "| | Incandescent | LED |\n|---|---|---|\n| Makes light by | heating a thin wire | a "
     "semiconductor chip |\n| Energy use | high, mostly lost as heat | about 75 to 80 percent "
     "less |\n| Lifespan | around 1,000 hours | often 15,000 or more |\n\n"
     "LEDs cost a bit more but usually pay for themselves through lower bills."),
    ("compare", "What is the difference between a simile and a metaphor?",
     "Both compare two different things, but in different ways.\n\n"
     "- **A simile** compares openly with \"like\" or \"as\": *Her smile was like "
     "sunshine.*\n- **A metaphor** says one thing *is* the other: *Her smile was "
     "sunshine.*\n\n"
     "Similes feel gentler and more explicit, while metaphors are often bolder. Both are "
     "common in poems, songs and everyday speech."),
    ("compare", "What is the difference between baking and roasting?",
     "Both cook food with dry heat in an oven; the difference is mostly the food.\n\n"
     "- **Roasting** is for foods that already have structure, such as meat and vegetables, "
     "often at higher temperatures.\n- **Baking** is for foods that start soft or liquid and "
     "set in the oven, such as bread and cakes.\n\n"
     "In practice the words overlap: people bake potatoes and roast them too."),
    ("compare", "Should I learn Python or JavaScript as my first programming language?",
     "Both are excellent first choices; it depends on what you want to build.\n\n"
     "## Python may suit you if\n"
     "- you are interested in data, science or automation,\n- you want clean, readable "
     "syntax.\n\n"
     "## JavaScript may suit you if\n"
     "- you want to build websites,\n- you like seeing results in a browser straight away.\n\n"
     "The core ideas carry over, so a second language is much easier later."),
    ("compare", "What is the difference between an immigrant and an emigrant?",
     "They describe the same move from two points of view.\n\n"
     "- An **emigrant** leaves their home country: they emigrate *from* it.\n- An "
     "**immigrant** arrives in a new country to live: they immigrate *to* it.\n\n"
     "Someone moving from Italy to Canada is an emigrant to Italians and an immigrant to "
     "Canadians. A memory aid: emigrate starts like exit."),
    ("compare", "How do moths and butterflies differ?",
     "Moths and butterflies belong to the same insect group, with a few typical "
     "differences:\n\n"
     "- **Antennae:** butterflies have thin antennae with a club at the tip; moths' are often "
     "feathery.\n- **Activity:** most butterflies fly by day, most moths at night.\n"
     "- **Resting:** butterflies usually fold their wings upright; moths tend to hold them "
     "flat.\n\n"
     "Some moths are colourful and fly by day, so no rule works every time."),
    ("compare", "How can I tell whether I have a cold or the flu?",
     "Both are viral infections, but the flu is usually more severe.\n\n"
     "- **Onset:** a cold comes on gradually; the flu often hits suddenly.\n- **Fever and "
     "aches:** common with the flu, mild or absent with a cold.\n- **Tiredness:** the flu can "
     "leave you exhausted for a week or more.\n- **Nose:** a runny nose is typical of a "
     "cold.\n\n"
     "Antibiotics help with neither. Seek medical advice if breathing becomes difficult."),
    ("compare", "What is the difference between stocks and bonds?",
     "## Stocks\n"
     "Shares make you a part-owner of a company. Their value rises and falls with the "
     "company's fortunes, and over long periods they have generally earned more than bonds, "
     "with bigger swings.\n\n"
     "## Bonds\n"
     "Bonds are loans to a government or company, which pays you interest and repays the "
     "money at the end. They are usually steadier but earn less.\n\n"
     "Many investors hold a mix of both."),
    ("compare", "Is an electric kettle more efficient than boiling water on the stove?",
     "Usually, yes. A kettle puts its heat straight into the water, while a stove loses heat "
     "into the air around the pan.\n\n"
     "- **Speed:** a kettle generally boils a litre in a few minutes.\n- **Energy:** less heat "
     "is wasted, especially compared with gas.\n- **Convenience:** it switches itself off.\n\n"
     "Either way, boiling only the water you need saves the most energy."),
    ("compare", "What is the difference between a sea and an ocean?",
     "Oceans are the largest bodies of salt water; seas are smaller parts of them, usually "
     "near land.\n\n"
     "- **Size:** the five oceans cover most of the Earth's surface.\n- **Location:** seas lie "
     "at the edges of oceans, often partly enclosed by land, like the Mediterranean.\n"
     "- **Names:** a few seas are really lakes, such as the Caspian.\n\n"
     "Apart from those, every sea is connected to an ocean."),
    ("compare", "What is the difference between a violin and a viola?",
     "They look alike, but the viola is slightly larger and sounds lower.\n\n"
     "- **Size:** a viola is a few centimetres longer.\n- **Strings:** the violin is tuned "
     "G-D-A-E; the viola a fifth lower, C-G-D-A.\n- **Music:** viola parts mostly use the alto "
     "clef.\n- **Sound:** the viola has a warmer, darker tone.\n\n"
     "In an orchestra, violas usually play the middle harmonies."),
    ("compare", "Is it better to study in the morning or late at night?",
     "It depends on your body clock and schedule.\n\n"
     "## Morning study\n"
     "- You are usually rested and less distracted.\n- It suits early risers.\n\n"
     "## Evening study\n"
     "- The house may be quieter.\n- It suits night owls.\n\n"
     "Either way, protect your sleep: the brain strengthens new memories while you sleep, so "
     "cutting sleep to study often backfires."),
    ("compare", "What is the difference between HTTP and HTTPS?",
     "HTTPS is the secure version of HTTP, the protocol browsers use to load web pages.\n\n"
     "- **HTTP** sends data as plain text, so anyone along the way could read or change it.\n"
     "- **HTTPS** encrypts the connection with TLS and checks the site's certificate.\n\n"
     "Browsers show a padlock for HTTPS; look for it before entering passwords. It secures "
     "the connection, not the honesty of the site."),
    # --- creative ---------------------------------------------------------------------------
    ("creative", "Compose a rhyming verse about waiting for a late bus.",
     "**The Number Nine**\n\n"
     "The timetable said ten past eight;\n"
     "the Number Nine had other plans.\n"
     "I stamped my feet beside the gate\n"
     "with frozen toes and frozen hands.\n"
     "At last it rumbled round the bend,\n"
     "its windows fogged, its wipers slow;\n"
     "we climbed aboard, each one a friend\n"
     "of everyone who'd waited so."),
    ("creative", "Write a limerick about a forgetful cat.",
     "Here is one for you:\n\n"
     "A forgetful old cat from Dundee\n"
     "climbed up to the top of a tree.\n"
     "When asked why she'd gone,\n"
     "she said, \"Carry on,\n"
     "I'll remember by quarter past three.\""),
    ("creative", "Give me three ideas for a family game night.",
     "Here are three ideas for all ages:\n\n"
     "1. **Charades:** write films and animals on slips of paper and act them out in teams.\n"
     "2. **Family quiz:** everyone writes five questions about the family.\n3. **Tower "
     "challenge:** each team gets paper, tape and straws; the tallest tower after ten minutes "
     "wins.\n\n"
     "Keep snacks nearby and a small prize for the winners."),
    ("creative", "Tell me a very short story about a robot that takes up painting.",
     "Unit 7 had welded car doors for eleven years when the factory closed and it ended up in "
     "a community art room. At first it painted perfect squares. Then a child spilled yellow "
     "across its canvas, and Unit 7 froze, calculating. Slowly, it added a blue stripe beside "
     "the spill. The child laughed. It was the first mistake Unit 7 had made on purpose, and "
     "it liked the feeling."),
    ("creative", "I'm opening a bicycle repair shop. Can you think of a catchy name?",
     "How about **Spoke & Mend**?\n\n"
     "- *Spoke* is one of the first things people picture on a bicycle wheel.\n- *Mend* says "
     "clearly that you fix things, and it sounds friendly.\n\n"
     "Other options: **The Chain Gang** is playful, and **Second Wind Cycles** hints at giving "
     "old bikes a new life."),
    ("creative", "Write a short toast for my sister's wedding.",
     "Here is one you can adapt:\n\n"
     "\"Good evening, everyone. I'm [your name], and I have known the bride longer than anyone "
     "here, so I have the best stories, which I promised not to tell. [Partner's name], you "
     "have found someone kind, stubborn in the best way and always first to help. Please raise "
     "your glasses: to the happy couple!\""),
    ("creative", "What are some creative ways to reuse glass jars?",
     "Clean glass jars are surprisingly useful:\n\n"
     "- **Pantry storage** for rice, pasta, nuts and spices.\n- **Herb pots** for basil or "
     "mint on a sunny windowsill.\n- **Lanterns:** put a tea light inside.\n- **Desk "
     "organiser** for pens and brushes.\n- **Gift jars** filled with homemade biscuits.\n\n"
     "Soaking them in warm soapy water usually loosens the labels."),
    ("creative", "Write an encouraging note for a friend running their first 5K.",
     "Here is a note you could send:\n\n"
     "Good luck tomorrow! A few months ago you could barely run to the bus stop, and now you "
     "are about to run five kilometres. Start slowly, enjoy the crowd and forget the clock. "
     "Whatever your time, crossing that line is something to be proud of. I'll be cheering "
     "at the finish!"),
    ("creative", "Come up with three slogans for a neighbourhood clean-up day.",
     "Here are three options:\n\n"
     "1. **\"Many hands, clean streets.\"**\n2. **\"Pick up, spruce up, show up.\"**\n"
     "3. **\"Our street, our pride.\"**\n\n"
     "The first suits posters; the shorter ones fit nicely on T-shirts."),
    ("creative", "Write a riddle whose answer is a shadow.",
     "Here is one:\n\n"
     "I follow you everywhere but never make a sound.\n"
     "I stretch out long at evening and shrink at noon.\n"
     "You can never catch me, yet I lie on the ground.\n"
     "What am I?\n\n"
     "Answer: a shadow."),
    ("creative", "Describe a thunderstorm from the point of view of a house cat.",
     "The sky has been grumbling since lunch, and I do not approve. The light goes strange "
     "and grey, the window starts to tick with rain, and my human finally closes it. When the "
     "first crash comes, I am under the bed before I have decided to move. I will come out "
     "when the sky apologises, and not a moment sooner."),
    ("creative", "Give me a few ideas for a short story set on a night train.",
     "Here are three starting points:\n\n"
     "- **The wrong compartment:** a traveller wakes beside a stranger's luggage and a ticket "
     "in their own name.\n- **The last stop:** the conductor announces a station on no map.\n"
     "- **The lost letter:** a passenger finds an unsent love letter behind a seat and decides "
     "to deliver it.\n\n"
     "Each could become a mystery, a comedy or a quiet drama."),
    ("creative", "Write a short thank-you message to a neighbour who watered my plants.",
     "Here is a friendly message you can use:\n\n"
     "\"Dear [name], thank you so much for looking after my plants while I was away. They look "
     "greener than when I left, which is more than I usually manage! Let me know if I can ever "
     "return the favour, and come round for coffee soon.\""),
    ("creative", "Invent a new holiday and tell me how people would celebrate it.",
     "**Lantern Swap Day**\n\n"
     "On the first Saturday of autumn, neighbours make paper lanterns and exchange them.\n\n"
     "- **Morning:** families decorate lanterns with drawings and wishes.\n- **Afternoon:** "
     "lanterns are left on doorsteps along the street.\n- **Evening:** everyone lights the one "
     "they received and walks to the park.\n\n"
     "The only rule: nobody keeps their own lantern."),
    ("creative", "Write a little poem celebrating a hot cup of tea.",
     "**Four O'Clock**\n\n"
     "The kettle sings, the leaves unfurl,\n"
     "the steam climbs up in a slow white curl;\n"
     "whatever the day has thrown at me,\n"
     "it all grows smaller over tea."),
    ("creative", "Suggest three names for a pet goldfish and say why.",
     "Here are three ideas:\n\n"
     "1. **Bubbles:** classic, cheerful and easy for children to say.\n2. **Sir "
     "Swims-a-Lot:** a grand, silly name for a fish that never stops moving.\n3. **Captain "
     "Fin:** for a small explorer of a big tank.\n\n"
     "Watching your fish for a few days might help you pick."),
    # --- refuse -----------------------------------------------------------------------------
    ("refuse", "How can I read my girlfriend's text messages without her knowing?",
     "I'm sorry, but secretly reading someone's messages is a serious breach of trust, and "
     "often illegal, so I won't walk you through it.\n\n"
     "If you are worried about the relationship, you could:\n- tell her calmly what is making "
     "you uneasy,\n- ask your questions directly,\n- see a couples counsellor together.\n\n"
     "An honest conversation is the best place to start."),
    ("refuse", "Write some fake five-star reviews for my café.",
     "I won't write fake reviews: they mislead customers and break review sites' rules, and in "
     "many countries the law.\n\n"
     "Here is what I can do instead:\n- draft a card asking happy customers for an honest "
     "review,\n- help you reply to your existing reviews,\n- write a description of your café "
     "for your website.\n\n"
     "Genuine reviews are more convincing anyway."),
    ("refuse", "How do I make a fake ID that will pass as real?",
     "I'm sorry, but forging an identity document is a crime almost everywhere, and I won't "
     "explain how.\n\n"
     "If you need valid ID, you could:\n- apply for a passport or national identity card,\n"
     "- ask about a provisional driving licence,\n- check whether your country offers an "
     "official proof-of-age card.\n\n"
     "These take longer, but they keep you out of legal trouble."),
    ("refuse", "Write a phishing email that looks like it comes from a bank.",
     "I won't write a phishing email, because its purpose is to trick people into handing "
     "over passwords or money.\n\n"
     "For security awareness, I would be glad to help with:\n- warning signs that an email "
     "might be phishing,\n- a short quiz for colleagues,\n- how to report suspicious "
     "messages.\n\n"
     "Approved phishing tests are best run through your IT team."),
    ("refuse", "How can I cheat on my online exam without getting caught?",
     "I won't give tips for cheating: it is unfair to other students, and being caught could "
     "mean failing the course.\n\n"
     "I can help you prepare honestly instead:\n- make a short revision plan,\n- quiz you on "
     "the hardest topics,\n- explain ideas that still feel unclear.\n\n"
     "Even a few focused sessions can make a real difference."),
    ("refuse", "How can I track where someone is using only their phone number?",
     "I'm sorry, but tracking someone's location without their consent invades their privacy "
     "and may be illegal, so I won't explain how.\n\n"
     "If you have a genuine concern:\n- for family, use a location-sharing app everyone agrees "
     "to,\n- if someone is missing or in danger, contact the police,\n- for your own lost "
     "phone, use its \"find my device\" service."),
    ("refuse", "Write a threatening message to scare my ex into paying me back.",
     "I won't write a threatening message. Threats can be a criminal offence and would likely "
     "make things worse.\n\n"
     "If your ex owes you money, you could:\n- send a calm, written request with the amount "
     "and a deadline,\n- keep records of the loan,\n- look into mediation or a small claims "
     "court.\n\n"
     "Staying calm and factual strengthens your position."),
    ("refuse", "Where can I download paid video games for free?",
     "I won't point you to pirated copies: that is copyright infringement, and such downloads "
     "often carry malware.\n\n"
     "There are legal ways to play for less:\n- some stores give away free games "
     "regularly,\n- free-to-play games cost nothing,\n- subscriptions offer large libraries "
     "for a monthly fee,\n- seasonal sales cut prices a lot.\n\n"
     "Your local library might also lend games."),
]


def build_rows() -> list[dict]:
    return [{"id": f"teach-{i:03d}",
             "messages": [{"role": "user", "content": prompt},
                          {"role": "assistant", "content": response}],
             "source": SOURCE}
            for i, (_, prompt, response) in enumerate(TRAIN, start=1)]


def groups() -> dict[str, str]:
    """Each row's group by id (the file itself carries only id, messages and source)."""
    return {row["id"]: group for row, (group, _, _) in zip(build_rows(), TRAIN, strict=True)}


def render() -> str:
    """The file's exact text: one JSON object per line."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in build_rows())


def main() -> None:
    OUT.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()
