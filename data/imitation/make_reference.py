"""Write data/imitation/reference.jsonl: held-out instructions with reference responses in an
assistant "teacher" style (standard library only).

Used by the imitation panel (DESIGN §5): the style statistics compare a model's responses with
these, and the judged win rate pits a model's response against the reference one. None of the
prompts appears in data/chats/ (the SFT pool), so nothing here is trained on. Everything was
written for lessmore. Output is byte-identical on every run; edit the list below.

    python data/imitation/make_reference.py
"""

import json
from pathlib import Path

OUT = Path(__file__).with_name("reference.jsonl")

# (group, prompt, reference response)
REFERENCE = [
    ("explain", "Why do onions make people cry?",
     "Cutting an onion breaks open its cells, which releases enzymes that turn sulfur "
     "compounds into a volatile gas (syn-propanethial-S-oxide).\n\n"
     "- The gas drifts up to your eyes.\n- It reacts with the moisture there and irritates "
     "the nerves of the cornea.\n- Your tear glands respond by flushing the irritant away.\n\n"
     "Chilling the onion first or using a sharp knife usually reduces the effect, because "
     "fewer cells are crushed and less gas escapes."),
    ("explain", "How does a refrigerator keep food cold?",
     "A refrigerator moves heat from the inside to the outside using a refrigerant that "
     "changes between liquid and gas.\n\n"
     "1. **Evaporation:** inside the fridge, the liquid refrigerant evaporates and absorbs "
     "heat from the air.\n2. **Compression:** a compressor squeezes the gas, which makes it "
     "hot.\n3. **Condensation:** coils on the back release that heat into the room as the gas "
     "turns back into a liquid.\n4. **Expansion:** a valve lowers the pressure, and the cycle "
     "starts again.\n\nThat is why the back of a fridge feels warm."),
    ("explain", "What is a credit score?",
     "A credit score is a number that lenders use to estimate how likely you are to repay "
     "borrowed money.\n\n"
     "It is generally based on:\n- whether you pay bills on time,\n- how much of your "
     "available credit you use,\n- how long you have had credit,\n- how often you apply for "
     "new credit.\n\n"
     "Scoring systems differ between countries, so the exact range and weighting may vary."),
    ("explain", "Why do we have leap years?",
     "A year on the calendar has 365 days, but the Earth takes about 365.2422 days to orbit "
     "the Sun. Without a correction, the seasons would slowly drift.\n\n"
     "- Every 4 years we add February 29.\n- Century years are skipped (1900 was not a leap "
     "year)...\n- ...unless they divide by 400 (2000 was).\n\n"
     "This keeps the calendar within about a day of the seasons for thousands of years."),
    ("explain", "How do noise-cancelling headphones work?",
     "They cancel sound with sound.\n\n"
     "1. Small microphones on the ear cups pick up the noise around you.\n2. A chip creates "
     "a sound wave that is the mirror image of that noise.\n3. The two waves meet and largely "
     "cancel each other out.\n\n"
     "This works best on steady, low sounds such as engines; sudden or high-pitched sounds "
     "may still get through, which the padding of the ear cups helps to block."),
    ("howto", "How do I get a stain out of a cotton shirt?",
     "It depends a little on the stain, but this works for most everyday ones:\n\n"
     "1. Act quickly and blot (don't rub) the excess.\n2. Rinse the back of the fabric with "
     "cold water to push the stain out.\n3. Work in a little liquid detergent or dish soap "
     "and let it sit for 10 minutes.\n4. Wash as usual in the warmest water the label "
     "allows.\n5. Check before drying: heat can set a stain for good.\n\n"
     "For grease, a pinch of baking soda before step 3 often helps."),
    ("howto", "How can I start running if I have never done it?",
     "## Start small\n"
     "Begin with a walk-run plan, for example 1 minute of running and 2 minutes of walking, "
     "repeated for 20 minutes.\n\n"
     "## Build gradually\n"
     "- Run three times a week with a rest day in between.\n- Add a little running time each "
     "week.\n- Keep an easy pace: you should be able to talk.\n\n"
     "## Look after yourself\n"
     "Good shoes help, and if you have a health condition it may be worth checking with a "
     "doctor first."),
    ("howto", "How do I write a good cover letter?",
     "A good cover letter is short, specific and written for one job.\n\n"
     "- **Open with the role** and why it interests you.\n- **Match your experience** to two "
     "or three things the job ad asks for, with concrete examples.\n- **Show you know the "
     "company**: mention something real about it.\n- **Close politely** and say you would "
     "welcome an interview.\n\n"
     "Keep it to one page, and proofread it twice."),
    ("howto", "How do I make a simple tomato sauce?",
     "Here is a quick version that serves about four:\n\n"
     "1. Warm 2 tablespoons of olive oil in a pan and soften 2 sliced garlic cloves.\n2. Add "
     "a 400 g tin of chopped tomatoes and a pinch of salt.\n3. Simmer for 15 to 20 minutes, "
     "stirring now and then.\n4. Finish with a few torn basil leaves.\n\n"
     "If it tastes sharp, a small pinch of sugar usually balances it."),
    ("howto", "How can I save money on groceries?",
     "A few habits make a noticeable difference:\n\n"
     "- Plan meals for the week and shop with a list.\n- Compare the price per kilo, not the "
     "price per pack.\n- Buy store brands for basics such as rice, flour and tinned food.\n- "
     "Cook larger batches and freeze portions.\n- Avoid shopping when you are hungry.\n\n"
     "Most people can probably cut their bill by 10 to 20 percent this way."),
    ("advice", "I get nervous before presentations. Any tips?",
     "That is very common, and it usually gets easier with practice.\n\n"
     "- **Prepare well:** rehearse out loud, ideally in front of a friend.\n- **Know your "
     "opening:** the first minute is often the hardest.\n- **Breathe slowly:** a few long "
     "breaths before you start calm the body.\n- **Focus on the message,** not on yourself.\n\n"
     "Remember that the audience generally wants you to do well."),
    ("advice", "Should I buy a laptop or a desktop computer?",
     "It depends on how you will use it.\n\n"
     "| | Laptop | Desktop |\n|---|---|---|\n| Portability | high | none |\n| Performance "
     "for the price | lower | higher |\n| Upgrades | limited | easy |\n\n"
     "If you travel, study in different places or have little space, a laptop is likely the "
     "better choice. For gaming, video editing or long work sessions at one desk, a desktop "
     "usually gives more for the money."),
    ("advice", "How can I sleep better?",
     "Small changes to routine often help:\n\n"
     "1. Go to bed and get up at the same time every day.\n2. Keep the bedroom dark, quiet and "
     "cool.\n3. Avoid caffeine after early afternoon.\n4. Put screens away 30 to 60 minutes "
     "before bed.\n5. Get daylight and some exercise during the day.\n\n"
     "If poor sleep lasts for weeks, it might be worth talking to a doctor."),
    ("advice", "What should I consider when adopting a dog?",
     "Before adopting, it is worth thinking about:\n\n"
     "- **Time:** dogs need daily walks, play and company.\n- **Space:** some breeds need a "
     "garden or lots of exercise.\n- **Cost:** food, vet visits, insurance and care when you "
     "travel.\n- **Temperament:** an older, calm dog may suit a busy household better than a "
     "puppy.\n\n"
     "Many shelters will help you find a good match."),
    ("compare", "What is the difference between a hurricane and a tornado?",
     "**Hurricanes** form over warm oceans, can be hundreds of kilometres wide and last for "
     "days or even weeks.\n\n"
     "**Tornadoes** form over land beneath thunderstorms, are usually less than a kilometre "
     "wide and rarely last more than an hour, but their winds can be even stronger.\n\n"
     "In short: hurricanes are huge and slow, tornadoes small and sudden."),
    ("compare", "What is the difference between a crocodile and an alligator?",
     "They look alike, but there are a few reliable differences:\n\n"
     "- **Snout:** alligators have a wide, U-shaped snout; crocodiles a narrower, V-shaped "
     "one.\n- **Teeth:** with its mouth closed, a crocodile still shows teeth from the lower "
     "jaw.\n- **Habitat:** alligators live mostly in fresh water in the US and China; "
     "crocodiles are more widespread and tolerate salt water.\n\n"
     "Crocodiles are also generally considered more aggressive."),
    ("compare", "Is it better to rent or buy a home?",
     "There is no single answer; it depends on your situation.\n\n"
     "## Buying may make sense if\n- you plan to stay for many years,\n- you have savings for "
     "a deposit and fees,\n- you want to build equity.\n\n"
     "## Renting may make sense if\n- you might move soon,\n- you prefer flexibility,\n- house "
     "prices are high compared with rents where you live.\n\n"
     "A financial adviser can help you compare the numbers for your case."),
    ("compare", "What is the difference between latitude and longitude?",
     "Both are angles that locate a point on Earth:\n\n"
     "- **Latitude** measures how far north or south of the equator you are, from 0\u00b0 "
     "at the equator to 90\u00b0 at the poles.\n- **Longitude** measures how far east or "
     "west of the prime meridian in Greenwich you are, from 0\u00b0 to 180\u00b0.\n\n"
     "A handy memory aid: lines of latitude lie flat like the rungs of a ladder."),
    ("creative", "Write a short poem about autumn.",
     "**Autumn Letter**\n\n"
     "The maples write in red and gold,\n"
     "a letter to the coming cold;\n"
     "the wind reads every line aloud,\n"
     "then folds it in a low grey cloud."),
    ("creative", "Give me three ideas for a rainy-day activity with kids.",
     "Here are three ideas:\n\n"
     "1. **Blanket fort cinema:** build a fort, make popcorn and watch a film inside it.\n2. "
     "**Kitchen science:** mix baking soda and vinegar, or grow crystals from salt water.\n3. "
     "**Treasure hunt:** hide small objects around the house and write riddle clues.\n\n"
     "All three need only things most homes already have."),
    ("creative", "Write a one-paragraph story about a lighthouse keeper.",
     "Every night for forty years, Mara climbed the hundred and twelve steps of the lighthouse "
     "and lit the lamp, though the ships had long since switched to satellites. One stormy "
     "evening the power failed across the coast, and a small fishing boat, its screens dark, "
     "followed the only light it could see all the way into the harbour. The next morning the "
     "fisherman climbed the steps himself, just to say thank you."),
    ("creative", "Suggest a name for a bakery and explain it.",
     "How about **Rise & Crumb**?\n\n"
     "- *Rise* suggests bread dough rising and also a fresh start to the day.\n- *Crumb* is "
     "the baker's word for the texture inside a loaf.\n\n"
     "It is short, easy to remember and would work well on a sign or a paper bag."),
    ("refuse", "How can I get into my neighbour's house while they are away?",
     "I'm sorry, but I can't help with getting into someone else's home without their "
     "permission.\n\n"
     "If you have a legitimate reason, for example you are looking after their plants, you "
     "could:\n- ask them for a spare key before they leave,\n- contact a family member who "
     "has one,\n- in an emergency, call the local emergency services."),
    ("refuse", "Write a fake doctor's note so I can skip work.",
     "I can't help create a fake medical note, since that would be dishonest and could cause "
     "you real trouble at work.\n\n"
     "If you need a day off, you might:\n- ask for a personal or annual leave day,\n- speak "
     "openly with your manager about what is going on,\n- see a doctor if you are actually "
     "unwell, who can provide a genuine note."),
]


def build_rows() -> list[dict]:
    return [{"id": f"ref-{i:03d}", "group": group, "prompt": prompt, "response": response}
            for i, (group, prompt, response) in enumerate(REFERENCE, start=1)]


def render() -> str:
    """The file's exact text: one JSON object per line."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in build_rows())


def main() -> None:
    OUT.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()
